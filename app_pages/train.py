"""Train: set up a training, watch it learn live, then study the result and compare runs."""
import json
import uuid
from dataclasses import asdict, fields

import numpy as np
import streamlit as st

from model import CLASSES
from model.lesson.config import CHOICES, PRESETS, TrainConfig
from model.service.jobs import FINISHED, QueueFull, Status
from model.service.runs import RunError
from model.service.settings import MAX_SEED, config_from_params, config_to_params
from ui import dataset_box, figures, layout, pictures, resources, session

FIELDS = [f.name for f in fields(TrainConfig)]
PRESET_TEXT = {"lesson": "lesson (the lesson's recipe)", "best": "best (the most accurate)"}
IMPL_TEXT = {"scratch": "From scratch (the lesson's hand-written code)", "concise": "Concise (torch.nn + torch.optim)"}


# --- the setup, in the sidebar -----------------------------------------------------------

def _key(name: str) -> str:
    return f"cfg_{name}"


def _apply(config: TrainConfig, preset: str) -> None:
    st.session_state.cfg_preset = preset
    for name in FIELDS:
        st.session_state[_key(name)] = getattr(config, name)


def _preset_changed() -> None:
    _apply(PRESETS[st.session_state.cfg_preset], st.session_state.cfg_preset)
    _setting_changed()


def _setting_changed() -> None:
    st.session_state.pop("link_notes", None)  # the user has taken over from the link


def current_config() -> TrainConfig:
    values = {}
    for f in fields(TrainConfig):
        value = st.session_state[_key(f.name)]
        values[f.name] = type(f.default)(value)
    return TrainConfig(**values)


def _link_params() -> dict[str, str]:
    """The Train settings in this page's URL (?preset=best&lr=0.01...), if any."""
    return {k: v for k, v in st.query_params.to_dict().items() if k in FIELDS or k == "preset"}


def load_setup(limits, active: bool) -> None:
    # The setup lives in the URL, so a copied link opens the same setup. A link that is not the
    # one this page last wrote (a fresh session opening a shared link, or an edited URL) sets
    # the widgets; whatever it asked for that can't be used is corrected, with a note.
    link = _link_params()
    if link and link != st.session_state.get("written_params") and not active:
        link_config, link_preset, notes = config_from_params(link, limits)
        _apply(link_config, link_preset or "lesson")
        st.session_state.link_notes = notes
    elif _key("epochs") not in st.session_state:
        # Widgets forget their values when the user visits another page; the setup is kept in
        # a plain session key and put back into the widgets when this page comes back.
        saved = st.session_state.get("train_setup")
        if saved:
            _apply(TrainConfig(**saved["config"]), saved["preset"])
        else:
            _apply(PRESETS["lesson"], "lesson")


def sidebar(limits, active: bool) -> TrainConfig:
    """The setup's widgets; the config they hold."""
    with st.sidebar:
        st.header("Setup")
        common_args = dict(on_change=_setting_changed, disabled=active)
        st.selectbox("Preset", list(PRESETS), key="cfg_preset", format_func=PRESET_TEXT.get,
                     on_change=_preset_changed, disabled=active,
                     help="Choosing a preset sets every setting below; change any of them afterwards.")
        st.radio("Implementation", CHOICES["impl"], key=_key("impl"), format_func=IMPL_TEXT.get, **common_args,
                 help="Both train the same model with the same numbers; the from-scratch one spells out softmax, "
                      "cross-entropy and the optimizer by hand.")
        st.slider("Epochs", 1, limits.max_epochs, key=_key("epochs"), **common_args,
                  help="One epoch is one pass over all 60,000 training images.")
        st.number_input("Learning rate η", min_value=limits.min_lr, max_value=limits.max_lr, step=0.01, format="%g",
                        key=_key("lr"), **common_args, help="The step size of each update W ← W − η∇l.")
        st.number_input("Batch size", min_value=limits.min_batch_size, max_value=limits.max_batch_size, step=32,
                        key=_key("batch_size"), **common_args,
                        help="Images per minibatch: each update follows the average gradient over this many.")
        st.selectbox("Optimizer", CHOICES["optimizer"], key=_key("optimizer"), **common_args,
                     format_func={"sgd": "SGD (the lesson's)", "momentum": "SGD with momentum 0.9", "adam": "Adam"}.get)
        st.selectbox("Learning-rate schedule", CHOICES["schedule"], key=_key("schedule"), **common_args,
                     format_func={"constant": "constant (the lesson's)", "cosine": "cosine decay to 0"}.get)
        st.selectbox("Input normalization", CHOICES["normalize"], key=_key("normalize"), **common_args,
                     format_func={"scale": "pixels / 255 (the lesson's)", "standardize": "zero mean, unit variance"}.get)
        st.number_input("Weight decay", min_value=0.0, max_value=limits.max_weight_decay, step=1e-4, format="%g",
                        key=_key("weight_decay"), **common_args, help="An L2 penalty λ‖W‖² that keeps weights small.")
        st.number_input("Initial weight std", min_value=0.0, max_value=limits.max_init_std, step=0.01, format="%g",
                        key=_key("init_std"), **common_args, help="W starts as random N(0, std²); b starts at 0.")
        st.checkbox("Naive softmax (the lesson's, can overflow)", key=_key("naive_softmax"), on_change=_setting_changed,
                    disabled=active or st.session_state[_key("impl")] != "scratch",
                    help="From scratch only: exp(o) / Σ exp(o) without the log-sum-exp trick. With a large learning "
                         "rate the loss becomes NaN; try η = 5.")
        st.number_input("Seed", min_value=0, max_value=MAX_SEED, step=1, key=_key("seed"), **common_args,
                        help="The same seed gives the same initial weights and minibatch order, so the same numbers.")

        config = current_config()
        base = PRESETS[st.session_state.cfg_preset]
        changed = [f"{name.replace('_', ' ')} {getattr(config, name)}" for name in FIELDS
                   if getattr(config, name) != getattr(base, name)]
        st.caption(f"The {st.session_state.cfg_preset} preset" + (f", changed: {', '.join(changed)}." if changed
                                                                   else ", unchanged."))
        st.session_state.train_setup = {"preset": st.session_state.cfg_preset, "config": asdict(config)}
        return config


def sync_url(config: TrainConfig) -> dict[str, str]:
    """The setup into the URL (a copied link opens it), and what the link had to correct."""
    params = config_to_params(config, st.session_state.cfg_preset)
    if _link_params() != params:
        st.query_params.from_dict(params)
    st.session_state.written_params = params
    if st.session_state.get("link_notes"):
        st.warning("The link's settings were corrected:\n" + "".join(f"\n- {note}" for note in st.session_state.link_notes),
                   icon=":material/link_off:")
    return params


# --- start, and the live view --------------------------------------------------------------

def start(config: TrainConfig) -> None:
    slot, queue, tensors = session.training_slot(), resources.training_queue(), resources.training_tensors()
    running = slot.get("job")
    if running is not None and not running.finished:
        return  # a double click: this session already has a training
    try:
        # The queue gives one place per owner: a burst of Start reruns gets the same job back.
        slot["job"] = queue.submit(config, tensors, owner=slot.setdefault("owner", uuid.uuid4().hex))
    except (ValueError, QueueFull) as error:
        st.session_state.start_error = str(error)
        return
    st.session_state.pop("start_error", None)
    st.session_state.pop("link_notes", None)


def stop(job) -> None:
    """Stop ends training within one minibatch (or leaves the queue); waiting for it here lets
    this very rerun show the result."""
    job.stop()
    job.wait(1.0)


@st.fragment(run_every=0.5)
def live(job) -> None:
    """Polls the running job twice a second; the script itself never blocks on training."""
    job.touch()  # this page is still open: the queue must not take the job for abandoned
    snap = job.snapshot()
    if snap.status in FINISHED:
        st.rerun()  # the whole page: the run is saved and its results drawn
    if snap.status is Status.QUEUED:
        st.info(f"Every training slot on this server is busy. You are number **{snap.position}** in line; "
                "training starts by itself when a slot frees up (Stop leaves the line).",
                icon=":material/hourglass_top:")
        return
    epoch = snap.history[-1]["epoch"] if snap.history else 0
    st.progress(min(snap.fraction, 1.0), text=f"Training: epoch {min(epoch + 1, job.config.epochs)} of "
                                             f"{job.config.epochs}, {snap.elapsed:.1f} s")
    show_metrics(snap.points, snap.history)
    st.plotly_chart(figures.curves_figure([{"name": "this run", "history": snap.history, "points": snap.points}]),
                    config=figures.PLOTLY_CONFIG, key="live_curves")
    st.caption("Train loss and accuracy are running averages over the current epoch, so they jump when a new "
               "epoch starts; test accuracy is measured once per epoch.")
    if snap.weight is not None:
        show_templates(snap.weight, "The ten weight templates, as they learn")


def show_metrics(points, history) -> None:
    cols = st.columns(4)
    last = points[-1] if points else None
    cols[0].metric("Train loss", f"{last['train_loss']:.3f}" if last else "–")
    cols[1].metric("Train accuracy", f"{last['train_acc']:.1%}" if last else "–")
    cols[2].metric("Test accuracy", f"{history[-1]['test_acc']:.1%}" if history else "–",
                   help="Measured after each full epoch.")
    cols[3].metric("Epochs done", len(history))


def show_templates(weight, title: str) -> None:
    st.markdown(f"**{title}**")
    templates = [pictures.diverging(row.reshape(28, 28)) for row in np.asarray(weight)]
    pictures.image_grid(templates, list(CLASSES), per_row=10)
    st.caption("Each class's 784 weights as a 28×28 picture: bright pixels where it is red raise that class's "
               "score, where it is blue lower it. Each picture is scaled on its own.")


def share_link(params: dict[str, str]) -> str:
    """This page's URL with the current setup in its query string."""
    from urllib.parse import urlencode

    base = st.context.url or "/train"
    return f"{base}?{urlencode(params)}"


def controls(job, active: bool, config: TrainConfig, params: dict[str, str], settings) -> None:
    """Start or Stop, Share, and the live view or what became of the last training."""
    c1, c2, c3 = st.columns([1.1, 3.4, 0.9], vertical_alignment="center")
    with c3.popover("Share", icon=":material/link:", width="stretch", help="Copy a link to this setup"):
        st.markdown("**Copy link to this setup**")
        st.code(share_link(params), language=None, wrap_lines=True)
        st.caption("Whoever opens it gets these settings (values outside this server's limits are corrected, "
                   "with a note).")
    if active:
        # Outside the live fragment: its click reruns the whole page, which then shows the stopped run.
        c1.button("Stop", key="stop_job", icon=":material/stop:", type="primary", width="stretch", on_click=stop,
                  args=(job,))
    else:
        c1.button("Start training", key="start", type="primary", icon=":material/play_arrow:", on_click=start, args=(config,),
                  width="stretch")
    if "start_error" in st.session_state:
        st.error(st.session_state.start_error)
    if active:
        c2.caption(f"{IMPL_TEXT[job.config.impl]}, {job.config.epochs} epochs, η = {job.config.lr:g}, "
                   f"batch {job.config.batch_size}. Stop ends it within a moment and keeps what it has learned.")
        live(job)
    else:
        c2.caption("Settings are in the sidebar. Training runs on the server in the background: the page stays "
                   "responsive, and Stop keeps what was learned so far.")
        if job is not None and job.status is Status.FAILED:
            st.error(job.error, icon=":material/error:")
        elif job is not None and job.abandoned:
            seconds = f"{settings.abandon_seconds:g}"
            st.warning(f"This page stopped answering for more than {seconds} s (a closed or hidden tab, or a lost "
                       "connection), so on this shared server your training "
                       + ("gave up its place in line. Press Start training to queue again." if job.result is None else
                          "was stopped to free its place; what it learned is kept below."), icon=":material/timer_off:")
        elif job is not None and job.status is Status.CANCELLED and session.job_saved(job):
            st.info("The queued training was cancelled before it started.")


# --- results of a run ------------------------------------------------------------------------

def evaluation(run_id: str, classifier) -> dict:
    """Test-set predictions of a run, computed once per run and kept in this session."""
    cache = st.session_state.setdefault("evaluations", {})
    if run_id not in cache:
        cache[run_id] = resources.evaluate(classifier)
    return cache[run_id]


def results(record, classifier, store, test_data) -> None:
    meta = classifier.metadata
    st.subheader(f"Results: {layout.plain(record.name)}")
    manage(record, store)
    if meta.get("diverged"):
        st.error(layout.plain(meta["diverged"]), icon=":material/warning:")
    elif meta.get("stopped"):
        st.info(f"Stopped after {len(record.history)} full epoch(s); the weights learned up to the stop are kept.",
                icon=":material/stop_circle:")
    ev = evaluation(record.id, classifier)
    cfg = record.config
    cols = st.columns(4)
    cols[0].metric("Test accuracy", f"{ev.accuracy:.1%}", help="On all 10,000 test images, with the final weights.")
    cols[1].metric("Epochs", f"{len(record.history)} of {cfg.get('epochs')}")
    cols[2].metric("Training time", f"{sum(h['seconds'] for h in record.history):.1f} s")
    cols[3].metric("Implementation", str(cfg.get("impl")))

    points = st.session_state.get("run_points", {}).get(record.id)
    if record.history or points:
        st.plotly_chart(figures.curves_figure([{"name": record.name, "history": record.history, "points": points}]),
                        config=figures.PLOTLY_CONFIG, key="result_curves")
    show_templates(classifier.weight, "The learned weight templates")

    left, right = st.columns([3, 2], gap="large")
    left.markdown("**Confusion matrix (test set)**")
    right.markdown("**Accuracy per class (test set)**")
    left.plotly_chart(figures.confusion_figure(ev.matrix), config=figures.PLOTLY_CONFIG, key="confusion")
    per_class = ev.per_class
    right.plotly_chart(figures.per_class_figure(per_class), config=figures.PLOTLY_CONFIG, key="per_class")
    worst = int(np.argmin(per_class))
    t, p, times = ev.most_confused()
    st.caption(f"Rows are the true class, columns the prediction; the diagonal is right. Hardest class: "
               f"{CLASSES[worst]} ({per_class[worst]:.0%}); most common mistake: {CLASSES[t]} taken for "
               f"{CLASSES[p]} ({times} times).")

    st.markdown("**Test images it gets wrong, most confident first**")
    images, labels = test_data
    wrong = ev.worst_mistakes(12)
    pictures.image_grid([images[i] for i in wrong],
                      [f"{CLASSES[labels[i]]} → {CLASSES[ev.predicted[i]]} ({ev.confidence[i]:.0%})"
                       for i in wrong], per_row=6)
    st.caption("Caption: true class → predicted class (the model's confidence). A linear model can only weigh "
               "pixels, so garments with similar outlines fool it.")

    from model.files import checkpoint

    c1, c2, c3, _ = st.columns([1.3, 1.3, 1.3, 2])
    c1.download_button("Download model", checkpoint.to_bytes(classifier), file_name=f"softmax-{record.id}.safetensors",
                       mime="application/octet-stream", icon=":material/download:", key="download_model",
                       on_click="ignore", width="stretch",
                       help="A .safetensors checkpoint; upload it on the Predict page, or load it with model.files.checkpoint.")
    c2.download_button("Download metadata", json.dumps(meta, indent=1, default=str), key="download_meta",
                       file_name=f"softmax-{record.id}.json", mime="application/json", icon=":material/description:",
                       on_click="ignore", width="stretch")
    if c3.button("Use on Predict", key="use_on_predict", icon=":material/arrow_forward:", width="stretch"):
        st.session_state.predict_model = f"run:{record.id}"
        st.switch_page(layout.PAGES["predict"])


def rename(store, run_id: str) -> None:
    try:
        store.rename(run_id, st.session_state[f"rename_{run_id}"])
    except (RunError, OSError) as error:
        st.session_state.run_error = str(error)


def delete(store, run_id: str) -> None:
    """Delete a run (an intact or a damaged one) and what this session computed from it."""
    try:
        store.delete(run_id)
    except (RunError, OSError) as error:
        st.session_state.run_error = str(error)
    for cache in ("evaluations", "run_points"):
        st.session_state.get(cache, {}).pop(run_id, None)


def manage(record, store) -> None:
    """Rename and Delete, each behind a small popover so they don't clutter the results."""
    c1, c2, _ = st.columns([1.3, 1.2, 4.5])  # wide enough that "Rename" is not cut off
    with c1.popover("Rename", icon=":material/edit:", width="stretch"):
        st.text_input("New name", value=record.name, key=f"rename_{record.id}", max_chars=100)
        st.button("Save the name", key="rename_run", on_click=rename, args=(store, record.id))
    with c2.popover("Delete", icon=":material/delete:", width="stretch"):
        where = " from disk" if session.runs_are_on_disk() else ""
        st.markdown(f"Delete **{layout.plain(record.name)}**{where}? This can't be undone.")
        st.button("Delete this run", key="delete_run", type="primary", on_click=delete, args=(store, record.id))


def runs(store, active: bool, data: dict) -> None:
    """What the last save did, the chosen run's results, every run, and the damaged ones."""
    records, damaged = store.scan()
    evicted = session.run_notices().pop("evicted", None)
    if evicted:
        st.warning(f"This server keeps the {len(records)} newest runs of each session, so the oldest "
                   f"{'run was' if len(evicted) == 1 else f'{len(evicted)} runs were'} removed to make room: "
                   f"{', '.join(layout.plain(name) for name in evicted)}. Download a model to keep it.",
                   icon=":material/auto_delete:")
    if "runs_disk_error" in st.session_state:
        st.warning(f"Runs can't be saved to disk ({st.session_state.runs_disk_error}), so they are kept in this "
                   "browser session only.", icon=":material/save:")
    if "run_error" in st.session_state:
        st.error(st.session_state.pop("run_error"))
    if not active and records:
        ids = [r.id for r in records]
        if st.session_state.get("selected_run") not in ids:
            st.session_state.selected_run = ids[0]
        names = {r.id: r.name for r in records}
        st.divider()
        if len(records) > 1:
            st.selectbox("Show the results of", ids, key="selected_run", format_func=names.get)
        record = next(r for r in records if r.id == st.session_state.selected_run)
        try:
            classifier = store.load_classifier(record.id)
        except Exception as error:  # noqa: BLE001 - a damaged or vanished run is a message, not a traceback
            classifier = None
            st.error(f"Run “{layout.plain(record.name)}” can't be loaded: {layout.plain(error)}")
            manage(record, store)
        if classifier is not None:
            results(record, classifier, store, data["test"])

    if records:
        st.divider()
        if session.runs_are_on_disk():
            st.subheader("Saved runs")
            st.caption(f"Every finished run is saved in {resources.settings().runs_dir} and listed again after a restart.")
        else:
            st.subheader("Runs in this session")
            st.caption("On this shared server your runs live in this browser session only: download a model to keep it.")
        # A markdown table, not st.dataframe: that imports pandas and pyarrow (~70 MB per server,
        # and a race with other sessions' charts while the import runs).
        st.markdown(layout.markdown_table(
            ["name", "test accuracy", "epochs", "implementation", "optimizer", "learning rate", "batch size"],
            [[r.name, f"{r.test_acc:.2%}" if r.test_acc is not None else "–", len(r.history), r.config.get("impl"),
              r.config.get("optimizer"), r.config.get("lr"), r.config.get("batch_size")] for r in records]))
        compare = []
        if len(records) > 1:
            compare = st.multiselect("Compare: overlay the curves of", [r.id for r in records], key="compare_runs",
                                     default=[r.id for r in records[:3]], format_func={r.id: r.name for r in records}.get)
        if compare:
            chosen = [r for r in records if r.id in compare]
            st.plotly_chart(figures.curves_figure([{"name": r.name, "history": r.history} for r in chosen]),
                            config=figures.PLOTLY_CONFIG, key="compare_curves")
    for broken in damaged:
        with st.container(border=True):
            st.error(f"Run {broken.id} in {layout.plain(resources.settings().runs_dir)} is damaged and can't be shown: "
                     f"{layout.plain(broken.reason)}.", icon=":material/broken_image:")
            st.button("Delete this damaged run", key=f"delete_damaged_{broken.id}", on_click=delete, args=(store, broken.id),
                      icon=":material/delete:")
    if not records and not active and not damaged:
        st.info("No runs yet. Press **Start training**: the lesson preset takes a few seconds.", icon=":material/info:")


layout.header("train", watch_training=False)
data = dataset_box.dataset()
if data is None:
    st.stop()
settings = resources.settings()
job = session.collect_finished_job()
active = job is not None and not job.finished
load_setup(settings.limits, active)
config = sidebar(settings.limits, active)
params = sync_url(config)
controls(job, active, config, params, settings)
runs(session.run_store(), active, data)
resources.warm_up()

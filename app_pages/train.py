"""Train: set up a training, watch it learn live, then study the result and compare runs."""
import contextlib
import json
import math
import time
import uuid
from dataclasses import asdict, fields, replace

import numpy as np
import streamlit as st

from model.lesson.config import CHOICES, PRESETS, TrainConfig, fuse_key
from model.service.jobs import FINISHED, QueueFull, Status
from model.service.runs import RunError, ended_in
from model.service.settings import MAX_SEED, config_from_params, config_to_params
from ui import dataset_box, figures, i18n, layout, pictures, resources, session
from ui.i18n import explain, t
from ui.lesson_code import lesson_code
from ui.same_numbers import same_numbers

FIELDS = [f.name for f in fields(TrainConfig)]


def option_text(name: str, lang: str):
    """The format_func of a choice's widget: "scratch" → "From scratch (the lesson's hand-written code)".
    In `lang`, fixed now: Streamlit may call a format_func outside this page's run."""
    return lambda value: i18n.text(lang, f"train.setup.options.{name}.{value}")


def short_name(name: str, value) -> str:
    """A setting's value as the caption, the results and the runs table show it: the short name of a
    choice ("concise", 简洁实现) or of a preset, a switch as on/off (开启/关闭), a float as run names
    write it (1, not 1.0), anything else as it is."""
    if (name in CHOICES and value in CHOICES[name]) or (name == "preset" and value in PRESETS):
        return t(f"train.short.{name}.{value}")
    if isinstance(value, bool):
        return t(f"train.short.bool.{str(value).lower()}")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# --- the setup: the key settings on the page, the others in the sidebar -----------------------------------------------------------

def _key(name: str) -> str:
    return f"cfg_{name}"


def _apply(config: TrainConfig, preset: str) -> None:
    st.session_state.cfg_preset = preset
    for name in FIELDS:
        st.session_state[_key(name)] = getattr(config, name)


def _recover_labels() -> None:
    """Put back the choice behind any label (in any language) a widget handed back instead of its
    choice. After a switch of language the browser still holds a choice's old label, and its next
    click sends that; Streamlit then hands back the label itself, not the choice."""
    labelled = {"cfg_preset": ("preset", list(PRESETS)),
                **{_key(name): (name, CHOICES[name]) for name in ("impl", "optimizer", "schedule", "normalize")}}
    for key, (name, options) in labelled.items():
        value = st.session_state.get(key)
        if value is not None and value not in options:
            labels = {i18n.text(lang, f"train.setup.options.{name}.{option}"): option
                      for lang in i18n.LANGUAGES for option in options}
            st.session_state[key] = labels.get(value, options[0])


def _preset_changed() -> None:
    stale = st.session_state.cfg_preset not in PRESETS  # the old label of the same preset, not a new choice
    _recover_labels()
    if stale:
        return  # keep the settings
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


def key_settings(limits, active: bool, lang: str) -> None:
    """Preset, implementation, epochs and learning rate, on the page itself: a phone hides the
    sidebar behind an arrow."""
    common_args = dict(on_change=_setting_changed, disabled=active)
    c1, c2, c3, c4 = st.columns([1.6, 1.7, 1.2, 0.9], vertical_alignment="top")  # the preset names fit
    c1.selectbox(t("train.setup.preset"), list(PRESETS), key="cfg_preset", format_func=option_text("preset", lang),
                 on_change=_preset_changed, disabled=active, help=t("train.setup.preset_help"))
    c2.radio(t("train.setup.impl"), CHOICES["impl"], key=_key("impl"), format_func=option_text("impl", lang),
             **common_args, help=t("train.setup.impl_help"))
    c3.slider(t("train.setup.epochs"), 1, limits.max_epochs, key=_key("epochs"), **common_args,
              help=t("train.setup.epochs_help"))
    c4.number_input(t("train.setup.lr"), min_value=limits.min_lr, max_value=limits.max_lr, step=0.01, format="%g",
                    key=_key("lr"), **common_args, help=t("train.setup.lr_help"))
    speed(active, lang)


def more_settings(limits, active: bool, lang: str) -> TrainConfig:
    """The other settings, in the sidebar, and what the setup changed from its preset; the config."""
    with st.sidebar:
        st.header(t("train.setup.header"))
        common_args = dict(on_change=_setting_changed, disabled=active)
        st.number_input(t("train.setup.batch_size"), min_value=limits.min_batch_size, max_value=limits.max_batch_size,
                        step=32, key=_key("batch_size"), **common_args, help=t("train.setup.batch_size_help"))
        st.selectbox(t("train.setup.optimizer"), CHOICES["optimizer"], key=_key("optimizer"), **common_args,
                     format_func=option_text("optimizer", lang))
        st.selectbox(t("train.setup.schedule"), CHOICES["schedule"], key=_key("schedule"), **common_args,
                     format_func=option_text("schedule", lang))
        st.selectbox(t("train.setup.normalize"), CHOICES["normalize"], key=_key("normalize"), **common_args,
                     format_func=option_text("normalize", lang))
        st.number_input(t("train.setup.weight_decay"), min_value=0.0, max_value=limits.max_weight_decay, step=1e-4,
                        format="%g", key=_key("weight_decay"), **common_args, help=t("train.setup.weight_decay_help"))
        st.number_input(t("train.setup.init_std"), min_value=0.0, max_value=limits.max_init_std, step=0.01, format="%g",
                        key=_key("init_std"), **common_args, help=t("train.setup.init_std_help"))
        st.checkbox(t("train.setup.naive_softmax"), key=_key("naive_softmax"), on_change=_setting_changed,
                    disabled=active or st.session_state[_key("impl")] != "scratch",
                    help=t("train.setup.naive_softmax_help"))
        st.number_input(t("train.setup.seed"), min_value=0, max_value=MAX_SEED, step=1, key=_key("seed"), **common_args,
                        help=t("train.setup.seed_help"))

        config = current_config()
        preset = st.session_state.cfg_preset
        base = PRESETS[preset]
        changed = [f"{t(f'train.setup.names.{name}')} {short_name(name, getattr(config, name))}" for name in FIELDS
                   if getattr(config, name) != getattr(base, name)]
        if changed:
            st.caption(t("train.setup.changed", preset=short_name("preset", preset),
                         changes=t("train.setup.separator").join(changed)))
        else:
            st.caption(t("train.setup.unchanged", preset=short_name("preset", preset)))
        st.session_state.train_setup = {"preset": st.session_state.cfg_preset, "config": asdict(config)}
        return config


def sync_url(config: TrainConfig, lang: str) -> dict[str, str]:
    """The setup into the URL (a copied link opens it), with the language (from_dict replaces the
    whole query string), and what the link had to correct. `written_params` and `_link_params`
    leave the language out: it is no setting."""
    params = config_to_params(config, st.session_state.cfg_preset)
    if _link_params() != params:
        st.query_params.from_dict({**params, **i18n.link_params(lang)})
    st.session_state.written_params = params
    if st.session_state.get("link_notes"):
        # The notes come from the engine (config_from_params) and are passed through as they are.
        st.warning(t("train.setup.link_corrected") + "\n" + "".join(f"\n- {explain(note)}" for note in st.session_state.link_notes),
                   icon=":material/link_off:")
    return params


# --- start, and the live view --------------------------------------------------------------

# Seconds between minibatches for each speed (None: as fast as possible; 0: one per click).
SPEEDS = {"fast": None, "slow": 0.25, "step": 0}


def speed(active: bool, lang: str) -> str:
    """How fast to train: as fast as possible, or in slow motion to watch the templates form."""
    return st.segmented_control(t("train.speed.label"), list(SPEEDS), default="fast", key="train_speed", required=True,
                                format_func=option_text("speed", lang), disabled=active, help=t("train.speed.help"))


def start(config: TrainConfig) -> None:
    slot, queue, tensors = session.training_slot(), resources.training_queue(), resources.training_tensors()
    running = slot.get("job")
    if running is not None and not running.finished:
        return  # a double click: this session already has a training
    pace = SPEEDS[st.session_state.get("train_speed") or "fast"]
    try:
        # The queue gives one place per owner: a burst of Start reruns gets the same job back.
        slot["job"] = queue.submit(config, tensors, owner=slot.setdefault("owner", uuid.uuid4().hex), pace=pace)
    except (ValueError, QueueFull) as error:
        st.session_state.start_error = explain(error)
        return
    session.started([slot["job"]])
    st.session_state.pop("start_error", None)
    st.session_state.pop("link_notes", None)


def stop(jobs: list) -> None:
    """Stop ends training within one minibatch (or leaves the queue); waiting for it here lets
    this very rerun show the result."""
    for job in jobs:
        job.stop()
    for job in jobs:
        job.wait(1.0)


# --- a sweep: one setting at several values, trained together --------------------------------

# The settings a sweep can vary (they don't change the minibatches: model.lesson.config.fuse_key),
# their values to choose from, and those chosen at first.
SWEEPS = {"lr": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0), "weight_decay": (0.0, 1e-4, 1e-3, 1e-2, 1e-1),
          "optimizer": CHOICES["optimizer"], "init_std": (0.001, 0.01, 0.1, 1.0)}
FIRST_CHOICE = {"lr": (0.01, 0.1, 1.0), "weight_decay": (0.0, 1e-3, 1e-2), "optimizer": CHOICES["optimizer"],
                "init_std": (0.01, 0.1, 1.0)}


def sweep_value(name: str, value, lang: str) -> str:
    return option_text(name, lang)(value) if name in CHOICES else f"{value:g}"


def sweep_setup(config: TrainConfig, lang: str) -> None:
    """Choose a setting and up to 8 values; Start trains them together in one pass."""
    with st.expander(t("train.sweep.title"), icon=":material/stacked_line_chart:"):
        st.caption(t("train.sweep.text" if fuse_key(config) else "train.sweep.text_alone"))
        if SPEEDS[st.session_state.get("train_speed") or "fast"] is not None:  # a pace is for watching one training
            st.caption(t("train.sweep.full_speed"))
        c1, c2, c3 = st.columns([1.2, 2.6, 1.3], vertical_alignment="bottom")
        names = {name: i18n.text(lang, f"train.setup.names.{name}") for name in SWEEPS}
        name = c1.selectbox(t("train.sweep.setting"), list(SWEEPS), key="sweep_setting", format_func=names.get)
        shown = {value: sweep_value(name, value, lang) for value in SWEEPS[name]}
        values = c2.multiselect(t("train.sweep.values"), list(shown), default=list(FIRST_CHOICE[name]),
                                key=f"sweep_values_{name}", max_selections=8, format_func=shown.get)
        c3.button(t("train.sweep.start", count=len(values)), key="start_sweep", icon=":material/play_arrow:",
                  on_click=start_sweep, args=(config, name, values), disabled=len(values) < 2, width="stretch")


def start_sweep(config: TrainConfig, name: str, values: list) -> None:
    slot, queue, tensors = session.training_slot(), resources.training_queue(), resources.training_tensors()
    if session.active_jobs():
        return  # a double click
    try:
        slot["sweep"] = queue.submit_sweep([replace(config, **{name: value}) for value in values], tensors,
                                           owner=slot.setdefault("owner", uuid.uuid4().hex))
    except (ValueError, QueueFull) as error:
        st.session_state.start_error = explain(error)
        return
    slot["sweep_setting"] = name
    session.started(slot["sweep"], name)
    slot.pop("sweep_compared", None)
    st.session_state.pop("start_error", None)


def redrawn(view, *args) -> None:
    """`view(*args, every)` as a fragment that redraws itself every `every` seconds (fewer times
    a second as more people train, resources.redraw_seconds)."""
    every = resources.redraw_seconds()
    st.fragment(view, run_every=every)(*args, every)


def sweep_live(jobs: list, name: str, lang: str, every: float) -> None:
    """Every value's curves overlaid as they learn."""
    for job in jobs:
        job.touch()
    deadline = time.monotonic() + every  # fused: they end together
    if all(job.wait_if_ending(max(0.0, deadline - time.monotonic())) for job in jobs) \
            or resources.redraw_seconds() > every:
        st.rerun()  # the whole page: the runs are saved and overlaid, or it redraws at the slower pace
    snaps = [job.snapshot() for job in jobs]
    if snaps[0].status is Status.QUEUED:
        st.info(t("train.live.queued", position=snaps[0].position), icon=":material/hourglass_top:")
        return
    if fuse_key(jobs[0].config):
        done = min(len(snap.history) for snap in snaps)
        text = t("train.sweep.progress", count=len(jobs), epoch=min(done + 1, jobs[0].config.epochs),
                 epochs=jobs[0].config.epochs, elapsed=snaps[0].elapsed)
    else:
        text = t("train.sweep.progress_alone", count=len(jobs), done=sum(snap.status in FINISHED for snap in snaps))
    st.progress(min(sum(snap.fraction for snap in snaps) / len(snaps), 1.0), text=text)
    label = i18n.text(lang, f"train.setup.names.{name}")
    runs = [{"name": f"{label} {sweep_value(name, getattr(job.config, name), lang)}", "history": snap.history,
             "points": snap.points} for job, snap in zip(jobs, snaps)]
    st.plotly_chart(figures.curves_figure(runs), config=figures.PLOTLY_CONFIG, key="sweep_curves")
    st.caption(t("train.sweep.live_caption"))


def live(job, every: float) -> None:
    """Polls the running job every `every` seconds; the script blocks on training only for a job
    about to end, at most until the next poll (Job.wait_if_ending)."""
    job.touch()  # this page is still open: the queue must not take the job for abandoned
    job.wait_if_ending(every)
    snap = job.snapshot()
    if snap.status in FINISHED or resources.redraw_seconds() > every:
        st.rerun()  # the whole page: the run is saved and its results drawn, or it redraws at the slower pace
    if snap.status is Status.QUEUED:
        st.info(t("train.live.queued", position=snap.position), icon=":material/hourglass_top:")
        return
    if job.pace is not None:
        slow_motion(job, snap)
    epoch = snap.history[-1]["epoch"] if snap.history else 0
    st.progress(min(snap.fraction, 1.0), text=t("train.live.progress", epoch=min(epoch + 1, job.config.epochs),
                                                 epochs=job.config.epochs, elapsed=snap.elapsed))
    show_metrics(snap.points, snap.history)
    curves({"name": t("train.live.this_run"), "history": snap.history, "points": snap.points}, job.config.epochs, "live")
    st.caption(t("train.live.curves_caption"))
    if snap.weight is not None:
        show_templates(snap.weight, t("train.live.templates"))


def slow_motion(job, snap) -> None:
    """The minibatch counter, and in step-by-step mode the buttons that take the next ones."""
    per_epoch = math.ceil(len(resources.training_tensors()[0]) / job.config.batch_size)
    done = snap.batches
    last = snap.points[-1] if snap.points else None
    st.markdown(t("train.speed.counter", batch=done, total=per_epoch * job.config.epochs,
                  epoch=min(done // per_epoch + 1, job.config.epochs), epochs=job.config.epochs,
                  loss=last["train_loss"] if last else float("nan")))
    if job.pace == 0:
        one, ten, _ = st.columns([1, 1, 3])
        one.button(t("train.speed.next"), key="next_batch", icon=":material/skip_next:", on_click=job.advance,
                   args=(1,), width="stretch")
        ten.button(t("train.speed.next_ten"), key="next_ten", icon=":material/fast_forward:", on_click=job.advance,
                   args=(10,), width="stretch")


def curves(run: dict, epochs: int, key: str) -> None:
    """A run's curves two ways: as they move within each epoch, and the chapter's own plot, one
    point per epoch, as d2l's train_ch3 draws it."""
    # Only the open tab's chart is made and sent: a class's live views redraw every second or two.
    # The tab chosen while training stays chosen for the results, another widget.
    labels = [t("train.curves.within"), t("train.curves.d2l")]
    within, per_epoch = st.tabs(labels, default=labels[st.session_state.get("curves_tab", 0)], key=f"{key}_tab",
                                on_change=remember_tab, args=(f"{key}_tab", labels))
    if within.open:
        within.plotly_chart(figures.curves_figure([run]), config=figures.PLOTLY_CONFIG, key=f"{key}_curves")
    if per_epoch.open and not run["history"]:
        per_epoch.caption(t("train.curves.no_epoch"))
    elif per_epoch.open:
        per_epoch.plotly_chart(figures.epochs_figure(run["history"], epochs), config=figures.PLOTLY_CONFIG,
                               key=f"{key}_d2l")


def remember_tab(key: str, labels: list[str]) -> None:
    if st.session_state.get(key) in labels:  # a label from before a language switch is not remembered
        st.session_state.curves_tab = labels.index(st.session_state[key])


def show_metrics(points, history) -> None:
    cols = st.columns(4)
    last = points[-1] if points else None
    cols[0].metric(t("train.live.train_loss"), f"{last['train_loss']:.3f}" if last else "–")
    cols[1].metric(t("train.live.train_acc"), f"{last['train_acc']:.1%}" if last else "–")
    cols[2].metric(t("train.live.test_acc"), f"{history[-1]['test_acc']:.1%}" if history else "–",
                   help=t("train.live.test_acc_help"))
    cols[3].metric(t("train.live.epochs_done"), len(history))


def show_templates(weight, title: str) -> None:
    st.markdown(f"**{title}**")
    pictures.image_grid(pictures.template_pictures(np.asarray(weight)), [layout.class_name(k) for k in range(10)])
    st.caption(t("train.templates.caption"))


def share_link(params: dict[str, str], lang: str) -> str:
    """This page's URL with the current setup and the language in its query string."""
    from urllib.parse import urlencode

    base = st.context.url or "/train"
    return f"{base}?{urlencode({**params, **i18n.link_params(lang)})}"


def controls(job, active: bool, config: TrainConfig, params: dict[str, str], settings, lang: str) -> None:
    """Start or Stop, Share, and the live view (of a training or a sweep) or what became of the
    last training."""
    slot = session.training_slot()
    sweep = [j for j in slot.get("sweep", ()) if not j.finished]
    c1, c2, c3 = st.columns([1.1, 3.4, 0.9], vertical_alignment="center")
    with c3.popover(t("train.controls.share"), icon=":material/link:", width="stretch",
                    help=t("train.controls.share_help")):
        st.markdown(t("train.controls.share_title"))
        st.code(share_link(params, lang), language=None, wrap_lines=True)
        st.caption(t("train.controls.share_caption"))
    if active:
        # Outside the live fragment: its click reruns the whole page, which then shows the stopped run.
        c1.button(t("train.controls.stop"), key="stop_job", icon=":material/stop:", type="primary", width="stretch", on_click=stop,
                  args=(session.active_jobs(),))
    else:
        c1.button(t("train.controls.start"), key="start", type="primary", icon=":material/play_arrow:", on_click=start, args=(config,),
                  width="stretch")
    if "start_error" in st.session_state:
        st.error(st.session_state.start_error)  # the queue's or the config's own words
    if active and not session.runs_are_on_disk():  # a hosted tab is its runs' only home
        c2.caption(t("train.controls.hosted_tab"))
    if sweep:
        c2.caption(t("train.sweep.running" if fuse_key(sweep[0].config) else "train.sweep.running_alone", count=len(sweep)))
        redrawn(sweep_live, sweep, slot["sweep_setting"], lang)
    elif active:
        c2.caption(t("train.controls.running", impl=t(f"train.setup.options.impl.{job.config.impl}"), epochs=job.config.epochs,
                     lr=job.config.lr, batch_size=job.config.batch_size))
        redrawn(live, job)
    else:
        c2.caption(t("train.controls.idle"))
        sweep_setup(config, lang)
        if job is not None and job.status is Status.FAILED:
            st.error(explain(job.error), icon=":material/error:")
        elif job is not None and job.abandoned:
            what = "abandoned_queued" if job.result is None else "abandoned_running"
            st.warning(t(f"train.controls.{what}", seconds=settings.abandon_seconds), icon=":material/timer_off:")
        elif job is not None and job.status is Status.CANCELLED and session.job_saved(job):
            st.info(t("train.controls.cancelled"))
    # Locally, trainings of other tabs (this one shows only the newest): not this session's own,
    # and a job that just ended may still be leaving the queue's list.
    others = resources.training_queue().running_for_others(slot.get("owner"))
    if others and session.runs_are_on_disk():
        st.info(t("train.controls.others_running_one" if others == 1 else "train.controls.others_running", count=others),
                icon=":material/hourglass_top:")


# --- results of a run ------------------------------------------------------------------------

def evaluation(run_id: str, classifier) -> dict:
    """Test-set predictions of a run, computed once per run and kept in this session."""
    cache = st.session_state.setdefault("evaluations", {})
    if run_id not in cache:
        cache[run_id] = resources.evaluate(classifier)
    return cache[run_id]


def results(record, name: str, classifier, store, test_data) -> None:
    meta = classifier.metadata
    st.subheader(t("train.results.title", name=layout.plain(name)))
    manage(record, name, store)
    if meta.get("diverged"):
        from model.lesson.train import divergence_reason  # torch: loaded already, this run trained

        reason = divergence_reason(TrainConfig.from_dict(record.config), meta["diverged"])
        st.error(layout.plain(explain(reason)), icon=":material/warning:")  # the engine's own words
    elif meta.get("stopped"):
        st.info(t("train.results.stopped", epoch=ended_in(record.history), total=record.config.get("epochs")),
                icon=":material/stop_circle:")
    ev = evaluation(record.id, classifier)
    cfg = record.config
    cols = st.columns(4)
    cols[0].metric(t("train.results.test_acc"), f"{ev.accuracy:.1%}", help=t("train.results.test_acc_help"))
    done, seconds = meta.get("epochs_trained"), meta.get("seconds")  # None in checkpoints made before them
    if done is None:
        done = record.epochs_done
    cols[1].metric(t("train.results.epochs"), t("train.results.epochs_value", done=epochs_shown(done),
                                                  total=cfg.get("epochs")))
    cols[2].metric(t("train.results.time"), t("train.results.time_value", seconds=seconds if seconds is not None
                                               else sum(h["seconds"] for h in record.history)))
    cols[3].metric(t("train.results.impl"), short_name("impl", cfg.get("impl")))

    points = st.session_state.get("run_points", {}).get(record.id)
    if record.history or points:
        curves({"name": name, "history": record.history, "points": points}, cfg.get("epochs", 1), "result")
    else:
        st.caption(t("train.results.no_curves"))
    show_templates(classifier.weight, t("train.results.templates"))

    left, right = st.columns([3, 2], gap="large")
    left.markdown(t("train.results.confusion"))
    right.markdown(t("train.results.per_class"))
    left.plotly_chart(figures.confusion_figure(ev.matrix), config=figures.PLOTLY_CONFIG, key="confusion")
    per_class = ev.per_class
    right.plotly_chart(figures.per_class_figure(per_class), config=figures.PLOTLY_CONFIG, key="per_class")
    worst = int(np.argmin(per_class))
    true, predicted, times = ev.most_confused()
    st.caption(t("train.results.confusion_caption", worst=layout.class_name(worst), worst_acc=per_class[worst],
                 true=layout.class_name(true), predicted=layout.class_name(predicted), times=times))

    st.markdown(t("train.results.mistakes"))
    images, labels = test_data
    wrong = ev.worst_mistakes(12)
    pictures.image_grid([images[i] for i in wrong],
                      [t("train.results.mistake", true=layout.class_name(labels[i]),
                         predicted=layout.class_name(ev.predicted[i]), confidence=ev.confidence[i]) for i in wrong],
                      width=150)
    st.caption(t("train.results.mistakes_caption"))
    mistake_to_reason(record.id, ev, labels)

    from model.files import checkpoint

    c1, c2, c3, _ = st.columns([1.3, 1.3, 1.3, 2])
    # The files are made when clicked (a callable), not at every run of the results: 30 people
    # reach them within seconds of each other.
    c1.download_button(t("train.results.download_model"), lambda: checkpoint.to_bytes(classifier),
                       file_name=f"softmax-{record.id}.safetensors",
                       mime="application/octet-stream", icon=":material/download:", key="download_model",
                       on_click="ignore", width="stretch",
                       help=t("train.results.download_model_help"))
    c2.download_button(t("train.results.download_meta"), lambda: json.dumps(meta, indent=1, default=str), key="download_meta",
                       file_name=f"softmax-{record.id}.json", mime="application/json", icon=":material/description:",
                       on_click="ignore", width="stretch")
    if c3.button(t("train.results.use_on_predict"), key="use_on_predict", icon=":material/arrow_forward:", width="stretch"):
        st.session_state.predict_model = f"run:{record.id}"
        st.switch_page(layout.PAGES["predict"])


def epochs_shown(done: float) -> str:
    """Epochs trained, rounded down: a run that ended inside an epoch learned past its last
    full one (0.047 of 1, not 0), and 9.996 of 10 is not 10."""
    if done == int(done):
        return str(int(done))
    return f"{done:.2g}" if done < 0.1 else f"{math.floor(done * 100) / 100:g}"


def mistake_to_reason(run_id: str, ev, labels: np.ndarray) -> None:
    """A cell of the confusion matrix, chosen from its ten largest mistakes, opens its most
    confident mistake in Predict, which shows why this model took one class for the other."""
    cells = sorted(((ev.matrix[a, b], a, b) for a in range(10) for b in range(10) if a != b and ev.matrix[a, b]),
                   reverse=True)[:10]
    if not cells:
        return
    shown = {(a, b): t("train.results.why_cell_option", true=layout.class_name(a), predicted=layout.class_name(b),
                       count=count) for count, a, b in cells}
    c1, c2 = st.columns([3, 1.2], vertical_alignment="bottom")
    true, predicted = c1.selectbox(t("train.results.why_cell"), list(shown), format_func=shown.get, key="why_cell")
    if c2.button(t("train.results.why_open"), key="why_open", icon=":material/help:", width="stretch"):
        in_cell = np.flatnonzero((labels == true) & (ev.predicted == predicted))
        st.session_state.predict_model = f"run:{run_id}"
        st.session_state.predict_input = "Test image"
        st.session_state.take_apart = True  # straight to "why this class and not that one"
        st.session_state.test_index = int(in_cell[np.argmax(ev.confidence[in_cell])])
        st.switch_page(layout.PAGES["predict"])


def rename(store, run_id: str) -> None:
    try:
        store.rename(run_id, st.session_state[f"rename_{run_id}"])
    except (RunError, OSError) as error:
        st.session_state.run_error = explain(error)


def delete(store, run_id: str) -> None:
    """Delete a run (an intact or a damaged one) and what this session computed from it."""
    try:
        store.delete(run_id)
    except (RunError, OSError) as error:
        st.session_state.run_error = explain(error)
    for cache in ("evaluations", "run_points"):
        st.session_state.get(cache, {}).pop(run_id, None)


def manage(record, name: str, store) -> None:
    """Rename and Delete, each behind a small popover so they don't clutter the results."""
    c1, c2, _ = st.columns([1.3, 1.2, 4.5])  # wide enough that "Rename" is not cut off
    with c1.popover(t("train.manage.rename"), icon=":material/edit:", width="stretch"):
        # A form, so that Enter saves too. No max_chars: its counter covered the name's end; the
        # store says when a name is too long.
        with st.form(f"rename_form_{record.id}", border=False):
            st.text_input(t("train.manage.new_name"), value=name, key=f"rename_{record.id}")
            st.form_submit_button(t("train.manage.save_name"), key="rename_run", on_click=rename, args=(store, record.id))
    with c2.popover(t("train.manage.delete"), icon=":material/delete:", width="stretch"):
        confirm = "delete_confirm_disk" if session.runs_are_on_disk() else "delete_confirm"
        st.markdown(t(f"train.manage.{confirm}", name=layout.plain(name)))
        st.button(t("train.manage.delete_run"), key="delete_run", type="primary", on_click=delete, args=(store, record.id))


def lesson() -> None:
    """The lesson's code for this step, and the two implementations trained side by side."""
    st.divider()
    st.subheader(t("train.lesson.title"))
    for column, step in zip(st.columns(3), ("sgd", "concise", "evaluate_accuracy")):
        with column:
            lesson_code(step)
    same_numbers()


def runs(store, active: bool, data: dict) -> None:
    """What the last save did, the chosen run's results, every run, and the damaged ones."""
    records, damaged = store.scan()
    names = layout.run_names(records)
    evicted = session.run_notices().pop("evicted", None)
    if evicted:
        st.warning(t("train.runs.evicted_one" if len(evicted) == 1 else "train.runs.evicted_many", kept=len(records),
                     count=len(evicted), names=t("train.runs.names_separator").join(layout.plain(n) for n in evicted)),
                   icon=":material/auto_delete:")
    if "runs_disk_error" in st.session_state:
        st.warning(t("train.runs.disk_error", error=st.session_state.runs_disk_error), icon=":material/save:")
    if "run_error" in st.session_state:
        st.error(st.session_state.pop("run_error"))
    if not active and records:
        ids = [r.id for r in records]
        if st.session_state.get("selected_run") not in ids:
            st.session_state.selected_run = ids[0]
        st.divider()
        if len(records) > 1:
            st.selectbox(t("train.runs.show_results"), ids, key="selected_run", format_func=names.get)
        record = next(r for r in records if r.id == st.session_state.selected_run)
        try:
            classifier = store.load_classifier(record.id)
        except Exception as error:  # noqa: BLE001 - a damaged or vanished run is a message, not a traceback
            classifier = None
            st.error(t("train.runs.load_error", name=layout.plain(names[record.id]), error=layout.plain(explain(error))))
            manage(record, names[record.id], store)
        if classifier is not None:
            with resources.results_turn():
                results(record, names[record.id], classifier, store, data["test"])

    if records:
        st.divider()
        if session.runs_are_on_disk():
            st.subheader(t("train.runs.saved"))
            st.caption(t("train.runs.saved_caption", folder=resources.settings().runs_dir))
        else:
            st.subheader(t("train.runs.session"))
            st.caption(t("train.runs.session_caption"))
        # A markdown table, not st.dataframe: that imports pandas and pyarrow (~70 MB per server,
        # and a race with other sessions' charts while the import runs).
        st.container(key="runs_table").markdown(layout.markdown_table(
            [t(f"train.runs.columns.{column}") for column in
             ("name", "test_acc", "epochs", "impl", "optimizer", "lr", "batch_size")],
            [[names[r.id], f"{r.test_acc:.2%}" if r.test_acc is not None else "–",
              epochs_shown(r.epochs_done),
              short_name("impl", r.config.get("impl")), short_name("optimizer", r.config.get("optimizer")),
              short_name("lr", r.config.get("lr")), r.config.get("batch_size")] for r in records]))
        compare = []
        if len(records) > 1:
            ids = [r.id for r in records]
            # The newest three at first; a sweep's runs once it ends (ui.session); never a deleted run.
            st.session_state.compare_runs = [i for i in st.session_state.get("compare_runs", ids[:3]) if i in ids]
            compare = st.multiselect(t("train.runs.compare"), ids, key="compare_runs",
                                     format_func=names.get)
        chosen = [r for r in records if r.id in compare and r.history]
        if chosen:
            st.plotly_chart(figures.curves_figure([{"name": names[r.id], "history": r.history} for r in chosen]),
                            config=figures.PLOTLY_CONFIG, key="compare_curves")
        elif compare:
            st.caption(t("train.runs.compare_empty"))
    for broken in damaged:
        with st.container(border=True):
            st.error(t("train.runs.damaged", id=broken.id, folder=layout.plain(resources.settings().runs_dir),
                       reason=layout.plain(explain(broken.reason))), icon=":material/broken_image:")
            st.button(t("train.runs.delete_damaged"), key=f"delete_damaged_{broken.id}", on_click=delete, args=(store, broken.id),
                      icon=":material/delete:")
    if not records and not active and not damaged:
        st.info(t("train.runs.none"), icon=":material/info:")


layout.header("train", watch_training=False)
_recover_labels()  # after the callbacks, before any widget reads its choice
lang = i18n.language()
data = dataset_box.dataset()
if data is None:
    st.stop()
settings = resources.settings()
resources.training_queue()  # created on the first visit: its training processes start before anyone presses Start
session.take_over_local_training()
job = session.collect_finished_job()
# A page with its run's results waits its turn for the whole rerun: a class's pages rerun at once
# when their round of trainings ends.
with resources.results_turn() if job is not None and job.finished else contextlib.nullcontext():
    active = bool(session.active_jobs())
    load_setup(settings.limits, active)
    key_settings(settings.limits, active, lang)
    config = more_settings(settings.limits, active, lang)
    params = sync_url(config, lang)
    controls(job, active, config, params, settings, lang)
    runs(session.run_store(), active, data)
    if not active:
        lesson()
resources.warm_up()

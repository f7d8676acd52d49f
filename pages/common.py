"""What the pages share: headers, cached loaders, the dataset-missing box, this session's
runs and image helpers (figures are in pages/figures.py). Pages import this; model/ never does.

Process-wide things (the dataset, the pretrained model, the training queue) are cached
once with st.cache_resource and never mutated (the arrays are made read-only). What a
user trains lives in that user's st.session_state only.
"""
from __future__ import annotations

import functools
import gc
import io
import logging
import re
import threading
import unicodedata

import numpy as np
import streamlit as st

from model import CLASSES, CLASSES_ZH
from model import analysis
from model import data as fmnist
from model.data import DatasetError
from model.jobs import Status

PAGES = {"home": "pages/home.py", "dataset": "pages/dataset.py", "train": "pages/train.py",
         "predict": "pages/predict.py"}


def class_name(label: int, chinese: bool = True) -> str:
    return f"{CLASSES[label]} ({CLASSES_ZH[label]})" if chinese else CLASSES[label]


_CSS = """<style>
[data-testid="stMainBlockContainer"] {padding-top: 3rem;}
</style>"""


def route_through_app() -> None:
    """Make sure the page runs inside app.py's st.navigation.

    Streamlit treats a folder named pages/ next to the entry script as an old-style (v1)
    multipage app until st.navigation has been called once in the process. So when a
    server's very first request is a deep link (/train?lr=0.5, /predict), Streamlit runs
    the page file on its own: no page config, no top navigation. Turning the v1 mode off
    and rerunning sends that request through app.py, like every later one. (AppTest resets
    the mode before every run and drops button clicks on a rerun, so under AppTest the page
    just goes on: it renders the same, only without app.py's page config.)
    """
    from streamlit import config
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not config.get_option("global.appTest"):  # looked up now: AppTest patches config.get_option
            st.rerun()


def header(title: str, lead: str, watch_training: bool = True) -> None:
    """The same header on every page: a title and one line on what the page teaches. While this
    session trains, every page tells the queue someone is still here (the Train page does so
    from its live view: `watch_training=False`)."""
    route_through_app()
    st.html(_CSS)
    st.title(title)
    st.markdown(f"<p style='font-size:1.05rem;color:#5f6368;margin-top:-0.6rem'>{lead}</p>",
                unsafe_allow_html=True)
    job = training_slot().get("job")
    if job is not None and not job.finished:
        job.touch()
        if watch_training:
            training_in_background(job)


@st.fragment(run_every=2)
def training_in_background(job) -> None:
    """A line about this session's training while another page is open; its polls keep the job
    from being taken for abandoned (model.jobs) while the learner is here."""
    job.touch()
    snap = job.snapshot()
    if job.finished:
        st.rerun()  # the whole page, without this line: the run is saved and listed
    if snap.status is Status.QUEUED:
        st.caption(f"Your training is number {snap.position} in line; it starts by itself. Open Train to watch it.")
    elif snap.status is Status.RUNNING:
        st.caption(f"Your training is running in the background ({snap.fraction:.0%}). Open Train to watch it.")


# --- the dataset ------------------------------------------------------------------------

@st.cache_resource(show_spinner="Loading Fashion-MNIST…")
def _split(split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = fmnist.load_split_numpy(split)
    images.flags.writeable = False  # shared by every session: nobody may change it
    labels.flags.writeable = False
    return images, labels


def dataset() -> dict | None:
    """{"train": (images, labels), "test": (...)}, or None after showing the missing-dataset box.
    Call it once per page run."""
    try:
        return {split: _split(split) for split in fmnist.SPLITS}
    except DatasetError as error:
        dataset_missing_box(error)
        return None


def dataset_notice(extra: str = "") -> bool:
    """For pages that can work without the dataset: True if it is there (found, not loaded);
    otherwise show the missing-dataset box, with `extra` saying what still works, and False."""
    try:
        for split in fmnist.SPLITS:
            fmnist.locate(split)
    except DatasetError as error:
        dataset_missing_box(error, extra)
        return False
    return True


def dataset_missing_box(error: Exception, extra: str = "") -> None:
    """One clear box: what is missing and the three ways to fix it, with a Download button."""
    with st.container(border=True):
        headline = ("Fashion-MNIST is not on this server." if extra else
                    "Fashion-MNIST is not on this server, so this page can't work yet.")
        st.error(f"**{headline}** {extra}\n\n{error}", icon=":material/dataset:")
        if st.button("Download Fashion-MNIST (30 MB)", key="download_dataset", icon=":material/download:"):
            _download()


def _download() -> None:
    bar = st.progress(0.0, text="Connecting…")
    shown = {"step": -1}

    def progress(name: str, done: int, total: int) -> None:
        step = int(100 * done / total) if total else 0
        if step != shown["step"]:  # one update per percent, not per 64 KB chunk
            shown["step"] = step
            bar.progress(min(step, 100) / 100, text=f"{name}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    try:
        fmnist.download(progress=progress)
    except DatasetError as error:
        bar.empty()
        st.error(str(error))
        return
    except Exception as error:  # noqa: BLE001 - no traceback on the page
        bar.empty()
        st.error(f"The download failed ({type(error).__name__}: {error}). Check the internet connection "
                 "or install the dataset with `sudo apt-get install dataset-fashion-mnist`.")
        return
    _split.clear()
    st.rerun()


@st.cache_resource(show_spinner="Preparing the training data…")
def training_tensors():
    """The dataset as torch tensors sharing the cached arrays' memory (imports torch)."""
    import warnings

    import torch

    out = []
    for split in fmnist.SPLITS:
        images, labels = _split(split)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # read-only on purpose; training never writes
            out += [torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))]
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def dataset_png(split: str, index: int, scale: int = 4) -> bytes:
    """One dataset image, enlarged, as PNG bytes: encoded once per process, not on every redraw."""
    return png(enlarge(_split(split)[0][index], scale))


def png(image: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.asarray(image)).save(out, format="PNG", compress_level=1)
    return out.getvalue()


@st.cache_data(show_spinner=False, max_entries=4)
def class_means(split: str) -> np.ndarray:
    return analysis.class_means(*_split(split))


def class_counts(split: str) -> np.ndarray:
    """How many images of each class the split holds."""
    return np.bincount(_split(split)[1], minlength=10)


@st.cache_data(show_spinner=False, max_entries=32)
def pixel_histogram(split: str, label: int | None) -> np.ndarray:
    images, labels = _split(split)
    return analysis.pixel_histogram(images if label is None else images[labels == label])


@st.cache_data(show_spinner=False, max_entries=8)
def pca_projection(split: str, n: int = 2000, seed: int = 0):
    """(xy [n, 2], labels [n], indices [n], explained variance ratio [2]) for a random sample."""
    images, labels = _split(split)
    xy, index, ratio = analysis.pca_2d(images, n, seed)
    return xy, labels[index], index, ratio


# --- models, settings and the training queue --------------------------------------------

@st.cache_resource(show_spinner=False)
def pretrained(name: str = "best"):
    """A shipped model, model/pretrained/<name>.safetensors: "best" (the test-set champion) or
    "robust" (for drawings and photos). Raises model.checkpoint.CheckpointError if it is missing
    or damaged."""
    from model import checkpoint

    classifier = checkpoint.load(checkpoint.PRETRAINED.with_name(f"{name}.safetensors"))
    classifier.weight.flags.writeable = False
    return classifier


@st.cache_resource(show_spinner=False)
def _settings():
    from model.settings import load_settings

    return load_settings()


def settings():
    """Deployment settings from SOFTMAX_STUDIO_* env vars; a bad value is shown, and defaults used."""
    from model.settings import Settings

    try:
        return _settings()
    except ValueError as error:
        st.warning(f"A server setting is invalid, so the defaults are used: {error}")
        return Settings()


@st.cache_resource(show_spinner=False)
def training_queue():
    """One queue per server process; each session keeps its own Job handles."""
    from model.jobs import TrainingQueue

    s = settings()
    return TrainingQueue(max_running=s.max_concurrent_trainings, threads_per_job=s.torch_threads(),
                         max_waiting=s.max_waiting, abandon_after=s.abandon_seconds, max_fused=s.max_fused)


def warm_up_work() -> None:
    """Import what the Train and Predict pages need and run one tiny training."""
    import torch

    from model.config import preset
    from model.train import train

    images = torch.zeros(512, 28, 28, dtype=torch.uint8)
    labels = torch.arange(512) % 10
    # Scratch only: a concise run's torch.optim imports torch._dynamo (~110 MB) that an idle
    # server should not carry; the first concise training pays that once.
    train(preset("lesson", epochs=1, impl="scratch"), images, labels, images, labels)
    import safetensors.numpy  # noqa: F401 - checkpoints for the download button
    # Not pandas (or anything else that libraries probe in sys.modules): plotly would find it
    # half-imported while a page draws a chart, and fail.
    # The modules just imported are ~270,000 objects that live as long as the server: move them
    # out of the garbage collector's sight, or every full collection walks them all (0.14 s).
    gc.freeze()


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Run warm_up_work in the background once the first page is up, so the Train page and
    the first real training don't pay ~2-4 s of imports and first-call set-up."""
    def work():
        try:
            warm_up_work()
        except Exception:  # noqa: BLE001 - warming up is only an optimisation; say why it failed
            logging.getLogger(__name__).warning("warm-up failed", exc_info=True)

    thread = threading.Thread(target=work, name="warm-up", daemon=True)
    thread.start()
    return thread


def plain(text) -> str:
    """`text` for a markdown context, shown exactly as typed: every mark that can start markup
    is backslash-escaped, so a run or file name can't become a link, an image the browser
    fetches, HTML, maths, emphasis or a colour; line breaks and control characters become
    spaces, so it stays on one line (where list and heading marks would need a line start)."""
    out = []
    for char in str(text):
        if char in _PUNCTUATION:
            out.append("\\" + char)
        elif char in "\r\n\t" or unicodedata.category(char) in ("Cc", "Cf"):
            out.append(" ")
        else:
            out.append(char)
    # Markdown links bare URLs and e-mail addresses after escapes are resolved; an invisible
    # word joiner inside "http:", "www." and "@" keeps them text.
    return _AUTOLINK.sub("\u2060", "".join(out))


_PUNCTUATION = frozenset("\\`*_{}[]()<>#!|~$:")
_AUTOLINK = re.compile(r"(?i)(?<=https)(?=\\:)|(?<=http)(?=\\:)|(?<=ftp)(?=\\:)|(?<=mailto)(?=\\:)|(?<=www)(?=\.)|(?<=@)")


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub-style table; every cell is plain text, so a run name can't break the layout."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(plain(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# --- this session's runs -----------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _disk_store(root: str):
    from model.runs import RunStore

    return RunStore(root)


def run_store():
    """Where finished runs live: on disk (settings.runs_dir, shared, kept across restarts)
    when running locally; in this session only on a hosted server, or if the disk refused."""
    from model.runs import MemoryRunStore

    if runs_are_on_disk():
        return _disk_store(str(settings().runs_dir))
    if "run_store" not in st.session_state:
        st.session_state.run_store = MemoryRunStore()
    return st.session_state.run_store


def runs_are_on_disk() -> bool:
    return not settings().hosted and "runs_disk_error" not in st.session_state


def evaluate(classifier) -> "analysis.Evaluation":
    """A model on the whole test set (model.analysis)."""
    return analysis.evaluate(classifier, *_split("test"))


def training_slot() -> dict:
    """This session's training job, as slot["job"].

    A click's rerun can stop a script at any Streamlit call, st.session_state included. The
    slot is a plain dict fetched before a job is submitted, so keeping the job in it is no
    Streamlit call: a click can't land between the two and leave a training nobody holds."""
    return st.session_state.setdefault("training", {})


def collect_finished_job():
    """If this session's training job has finished, save its run (once). Returns the job.

    Everything that touches session state comes before the save, and after it only plain
    dicts are changed: the run can't be lost (marked saved, never saved) or saved twice."""
    job = training_slot().get("job")
    saved = st.session_state.setdefault("saved_jobs", {})  # job id -> run id (None: nothing to save)
    if job is None or not job.finished or job.id in saved:
        return job
    if job.result is None:  # cancelled in line, or failed before it learned anything
        saved[job.id] = None
        return job
    points, evaluations = st.session_state.setdefault("run_points", {}), st.session_state.setdefault("evaluations", {})
    notices = run_notices()
    store = run_store()
    classifier = job.result.classifier()
    try:
        evaluation = evaluate(classifier)  # its confusion matrix and mistakes, for the results
    except DatasetError:
        evaluation = None
    try:
        record = store.save(classifier)  # named from its metadata (model.runs.default_name)
    except Exception as error:  # noqa: BLE001 - a full disk, a refused file: keep the run in this session instead
        logging.getLogger(__name__).warning("saving run of job %s failed", job.id, exc_info=True)
        st.session_state.runs_disk_error = f"{settings().runs_dir}: {getattr(error, 'strerror', None) or error}"
        store = run_store()
        record = store.save(classifier)
    saved[job.id] = record.id  # no Streamlit call between the save and this line
    notices["evicted"] = [old.name for old in store.evicted]
    points[record.id] = job.snapshot().points
    if evaluation is not None:
        evaluations[record.id] = evaluation
    st.session_state.selected_run = record.id
    return job


def run_notices() -> dict:
    """What the last save did that the user must be told: {"evicted": names of runs it removed}."""
    return st.session_state.setdefault("run_notices", {})


def job_saved(job) -> bool:
    """Whether collect_finished_job has dealt with this job."""
    return job.id in st.session_state.get("saved_jobs", {})


# --- pictures ------------------------------------------------------------------------------

def image_grid(images, captions, per_row: int = 8, scale: int = 4) -> None:
    """Small images in even columns, crisp (enlarged without smoothing), one caption each.
    An image is an array (enlarged here) or PNG bytes (shown as they are)."""
    for start in range(0, len(images), per_row):
        cols = st.columns(per_row, gap="small")
        for col, image, caption in zip(cols, images[start:start + per_row], captions[start:start + per_row]):
            picture = image if isinstance(image, bytes) else enlarge(image, scale)
            col.image(picture, caption=caption, width="stretch")


def enlarge(image: np.ndarray, scale: int = 4) -> np.ndarray:
    """Nearest-neighbour upscaling, so 28x28 pixels stay crisp squares in the browser."""
    return np.repeat(np.repeat(np.asarray(image), scale, axis=0), scale, axis=1)


_BLUE, _WHITE, _RED = np.array([33, 102, 172]), np.array([247, 247, 247]), np.array([178, 24, 43])


def diverging(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Signed values -> RGB uint8: blue negative, white zero, red positive, full colour at +-limit
    (default: the 99th percentile of |values|, so a few extreme pixels don't wash out the rest)."""
    values = np.asarray(values, dtype=np.float32)
    limit = float(limit if limit is not None else np.percentile(np.abs(values), 99)) or 1.0
    t = np.clip(values / limit, -1.0, 1.0)[..., None]
    rgb = np.where(t >= 0, _WHITE + t * (_RED - _WHITE), _WHITE + (-t) * (_BLUE - _WHITE))
    return rgb.astype(np.uint8)


@st.cache_data(show_spinner=False, max_entries=4)
def class_mean_pngs(split: str) -> list[bytes]:
    return [png(enlarge(np.rint(m).astype(np.uint8), 4)) for m in class_means(split)]

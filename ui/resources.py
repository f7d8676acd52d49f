"""Process-wide things, cached once per server and never mutated: the dataset (read-only
arrays), its tensors and statistics, the shipped models, the settings, the training queue and
the warm-up. What a user makes lives in their session (ui/session.py).
"""
from __future__ import annotations

import gc
import logging
import threading
from contextlib import contextmanager

import numpy as np
import streamlit as st

from model.lesson import analysis
from model.files import data as fmnist
from ui.i18n import explain, t


@st.cache_resource(show_spinner="Loading Fashion-MNIST…")
def dataset_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = fmnist.load_split_numpy(split)
    images.flags.writeable = False  # shared by every session: nobody may change it
    labels.flags.writeable = False
    return images, labels


@st.cache_resource(show_spinner="Preparing the training data…")
def training_tensors():
    """The dataset as torch tensors sharing the cached arrays' memory (imports torch)."""
    import warnings

    import torch

    out = []
    for split in fmnist.SPLITS:
        images, labels = dataset_split(split)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # read-only on purpose; training never writes
            out += [torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))]
    return tuple(out)


@st.cache_data(show_spinner=False, max_entries=4)
def class_means(split: str) -> np.ndarray:
    return analysis.class_means(*dataset_split(split))


def class_counts(split: str) -> np.ndarray:
    """How many images of each class the split holds."""
    return np.bincount(dataset_split(split)[1], minlength=10)


@st.cache_data(show_spinner=False, max_entries=32)
def pixel_histogram(split: str, label: int | None) -> np.ndarray:
    images, labels = dataset_split(split)
    return analysis.pixel_histogram(images if label is None else images[labels == label])


# Points of the Dataset page's PCA: each is an SVG marker a new tab draws, 2,000 took ~0.1 s of
# its main thread here (1,000: ~0.06 s; a phone is slower), and 100 a class show the same clouds.
PCA_POINTS = 1000


@st.cache_data(show_spinner=False, max_entries=8)
def pca_projection(split: str, n: int = PCA_POINTS, seed: int = 0):
    """(xy [n, 2], labels [n], indices [n], explained variance ratio [2]) for a random sample."""
    images, labels = dataset_split(split)
    xy, index, ratio = analysis.pca_2d(images, n, seed)
    return xy, labels[index], index, ratio


def evaluate(classifier) -> "analysis.Evaluation":
    """A model on the whole test set (model.lesson.analysis)."""
    return analysis.evaluate(classifier, *dataset_split("test"))


@st.cache_resource(show_spinner=False)
def pretrained(name: str = "best"):
    """A shipped model, model/pretrained/<name>.safetensors: "best" (the test-set champion) or
    "robust" (for drawings and photos). Raises model.files.checkpoint.CheckpointError if it is missing
    or damaged."""
    from model.files import checkpoint

    classifier = checkpoint.load(checkpoint.PRETRAINED.with_name(f"{name}.safetensors"))
    classifier.weight.flags.writeable = False
    return classifier


@st.cache_resource(show_spinner=False)
def settings_from_env():
    from model.service.settings import load_settings

    return load_settings()


def settings():
    """Deployment settings from SOFTMAX_STUDIO_* env vars; a bad value is shown, and defaults used."""
    from model.service.settings import Settings

    try:
        return settings_from_env()
    except ValueError as error:
        st.warning(t("common.bad_setting", error=explain(error)))
        return Settings()


@st.cache_resource(show_spinner=False)
def training_queue():
    """One queue per server process; each session keeps its own Job handles. Its trainings run in
    child processes (model.service.workers), started now, as the first visitor opens Train, and
    given the dataset at once."""
    from model.service.jobs import TrainingQueue
    from model.service.workers import TrainingProcesses

    from ui import keeper

    s = settings()
    processes = TrainingProcesses(count=s.max_concurrent_trainings, threads=s.torch_threads(),
                                  lanes=s.trainings_per_process)
    processes.start(training_tensors())
    return TrainingQueue(max_running=s.max_concurrent_trainings, threads_per_job=s.torch_threads(),
                         max_waiting=s.max_waiting, abandon_after=s.abandon_seconds, max_fused=s.max_fused,
                         processes=processes, on_finished=keeper.on_finished)  # runs kept as they end


# A round of fused trainings ends for up to 16 people at once (a whole class, on equal settings),
# and each of their pages then reruns and draws its results: ~50 ms of the server's Python
# each, which holds the GIL. All at once they all finish at the end, and a prediction asked
# meanwhile gets a seventeenth of the GIL; two at a time, the others wait asleep, the first
# results show sooner and predictions still answer.
RESULTS_AT_ONCE = 2
_results_turns = threading.BoundedSemaphore(RESULTS_AT_ONCE)
_turn_held = threading.local()  # a script run that holds a turn takes none again (a page and its results)


@contextmanager
def results_turn(patience: float = 5.0):
    """A turn to draw a run's results, among RESULTS_AT_ONCE pages at most; after `patience`
    seconds of waiting the page draws anyway (a turn is never worth a hang). Meanwhile its
    script thread sleeps, so a click on that page waits for the turn too."""
    if getattr(_turn_held, "now", False):
        yield
        return
    got = _results_turns.acquire(timeout=patience)
    _turn_held.now = True
    try:
        yield
    finally:
        _turn_held.now = False
        if got:
            _results_turns.release()


def redraw_seconds() -> float:
    """How often a page watching a training redraws it: twice a second while a few train, less
    often as a class does. Each redraw costs the server ~20 ms, and 30 pages redrawing twice a
    second took a whole core of a 2-CPU server from the trainings they watched. Three steps
    only: a page whose step grows reruns once to take it. One whose step shrinks keeps its own
    until its next run: as a class's trainings end, a rerun of every page still watching would
    take the CPU from the trainings still running (Job.wait_if_ending shows each end on time)."""
    queue = training_queue()
    watched = queue.running + queue.waiting
    return 0.5 if watched <= 8 else 1.0 if watched <= 16 else 2.0


def warm_up_work() -> None:
    """Import what the Train and Predict pages need and run one tiny training."""
    import torch

    from model.lesson.config import preset
    from model.lesson.train import train

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


def import_component(module: str):
    """`module`, a Streamlit component package, imported. Its declare_component asks
    inspect.getmodule for its own module, and CPython's inspect.getmodule is not thread-safe:
    while another thread fills its file cache (the warm-up importing torch), it can answer None,
    and Streamlit raises "module is None. This should never happen." (a first upload beside the
    warm-up, once in CI). The failed import leaves nothing behind, and a second try finds it."""
    import importlib

    for attempt in range(3):
        try:
            return importlib.import_module(module)
        except RuntimeError as error:
            if "module is None" not in str(error) or attempt == 2:
                raise


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


@st.cache_resource(show_spinner=False)
def disk_store(root: str):
    from model.service.runs import RunStore

    return RunStore(root)

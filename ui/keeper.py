"""What becomes of a training started on a local server. Its run is kept on disk once, by
whichever asks first: its session's next page run, or the training queue as the training ends
(ui.resources.training_queue). So a tab closed while its training ran loses nothing, and no run
is saved twice. Until it ends, a tab of the same learner (the page reloaded, a second tab) can
find it, to show it and stop it. Local mode only: a hosted server keeps runs in their session,
drops the trainings of closed tabs, and never shows one visitor's training to another."""
from __future__ import annotations

import threading
from collections import OrderedDict

from model.service.runs import name_of
from ui.i18n import DEFAULT, explain

_KEPT: OrderedDict[str, str] = OrderedDict()  # job id -> run id
_STARTED: OrderedDict[str, tuple] = OrderedDict()  # job id -> (the starting page's language, its disk store or None)
# Local mode: (jobs started together, the setting a sweep varies or None, their store) until all end.
_TRAINING: list[tuple[tuple, str | None, object]] = []
_LOCK = threading.Lock()
_REMEMBERED = 10_000  # ids are ~40 bytes: a lifetime of trainings in a few MB


def started(jobs, lang: str, store=None, sweep_setting: str | None = None) -> None:
    """Jobs a page just submitted (a training, or a sweep of `sweep_setting`): named in its
    language whoever keeps them, and kept in `store` as they end (None: by the page only)."""
    with _LOCK:
        for job in jobs:
            _STARTED[job.id] = (lang, store)
        while len(_STARTED) > _REMEMBERED:
            _STARTED.popitem(last=False)
        _drop_ended()
        if store is not None:
            _TRAINING.append((tuple(jobs), sweep_setting, store))


def still_training(store) -> tuple[list, str | None] | None:
    """The newest jobs started together that will be kept in `store` and have not all ended,
    and the setting their sweep varies (None for one training); None if there are none."""
    with _LOCK:
        _drop_ended()
        found = [(list(jobs), setting) for jobs, setting, kept_in in _TRAINING if kept_in is store]
    return found[-1] if found else None


def _drop_ended() -> None:
    _TRAINING[:] = [entry for entry in _TRAINING if not all(job.finished for job in entry[0])]


def keep(job, store) -> str:
    """The id of finished `job`'s run in `store`, saved there the first time anyone asks. Raises
    what store.save raises (a full disk): nothing is remembered then, so the next asker tries again."""
    with _LOCK:
        if job.id not in _KEPT:
            classifier = job.result.classifier()
            lang = _STARTED.get(job.id, (DEFAULT, None))[0]
            _KEPT[job.id] = store.save(classifier, explain(name_of(classifier), lang)).id
            _STARTED.pop(job.id, None)
            while len(_KEPT) > _REMEMBERED:
                _KEPT.popitem(last=False)
        return _KEPT[job.id]


def on_finished(job) -> None:
    """The training queue's call as `job` ends with a result: kept where its page said."""
    with _LOCK:
        store = _STARTED.get(job.id, (None, None))[1]
    if store is not None:
        keep(job, store)

"""This browser session's things: its training job, its run store, and saving a finished
job's run exactly once (a click's rerun can stop a script at any Streamlit call)."""
from __future__ import annotations

import logging

import streamlit as st

from model.files.data import DatasetError
from model.service.runs import name_of
from ui import i18n, keeper, resources
from ui.i18n import explain


def run_store():
    """Where finished runs live: on disk (settings.runs_dir, shared, kept across restarts)
    when running locally; in this session only on a hosted server, or if the disk refused."""
    from model.service.runs import MemoryRunStore

    if runs_are_on_disk():
        return resources.disk_store(str(resources.settings().runs_dir))
    if "run_store" not in st.session_state:
        st.session_state.run_store = MemoryRunStore()
    return st.session_state.run_store


def runs_are_on_disk() -> bool:
    return not resources.settings().hosted and "runs_disk_error" not in st.session_state


def training_slot() -> dict:
    """This session's training job, as slot["job"].

    A click's rerun can stop a script at any Streamlit call, st.session_state included. The
    slot is a plain dict fetched before a job is submitted, so keeping the job in it is no
    Streamlit call: a click can't land between the two and leave a training nobody holds."""
    return st.session_state.setdefault("training", {})


def started(jobs, sweep_setting: str | None = None) -> None:
    """Jobs this session just submitted (a sweep's, of `sweep_setting`): on disk their runs are
    kept as they end, even if this tab is closed by then (ui.keeper), and named in this
    session's language."""
    keeper.started(jobs, i18n.language(), run_store() if runs_are_on_disk() else None, sweep_setting)


def take_over_local_training() -> None:
    """Locally the server is one learner's: a tab with no training of its own (the page was
    reloaded, or a second tab opened) takes the one still running, to show it and stop it."""
    if not runs_are_on_disk() or active_jobs():
        return
    found = keeper.still_training(run_store())
    if found is None:
        return
    jobs, setting = found
    slot = training_slot()
    if jobs[0].owner is not None:  # one learner, one place in line: a Start from either tab is the same
        slot["owner"] = jobs[0].owner
    if setting is None:
        slot["job"] = jobs[0]
    else:
        slot["sweep"], slot["sweep_setting"] = jobs, setting
        slot.pop("sweep_compared", None)


def active_jobs() -> list:
    """This session's unfinished trainings: its job, or the jobs of its sweep."""
    slot = training_slot()
    return [job for job in (slot.get("job"), *slot.get("sweep", ())) if job is not None and not job.finished]


def collect_finished_job():
    """Save the run of each finished training of this session (once): its job, or each job of
    its sweep. Returns the job (None during a sweep)."""
    slot = training_slot()
    sweep = slot.get("sweep") or []
    for job in sweep:
        _save_once(job)
    if sweep and all(job.finished for job in sweep) and "sweep_compared" not in slot:
        slot["sweep_compared"] = True  # the sweep's runs overlaid once, then the learner's choice
        runs = st.session_state.get("saved_jobs", {})
        st.session_state.compare_runs = [runs[job.id] for job in sweep if runs.get(job.id)]
    job = slot.get("job")
    if job is not None:
        _save_once(job)
    return job


def _save_once(job) -> None:
    """Everything that touches session state comes before the save, and after it only plain
    dicts are changed: the run can't be lost (marked saved, never saved) or saved twice."""
    saved = st.session_state.setdefault("saved_jobs", {})  # job id -> run id (None: nothing to save)
    if not job.finished or job.id in saved:
        return
    if job.result is None:  # cancelled in line, or failed before it learned anything
        saved[job.id] = None
        return
    points, evaluations = st.session_state.setdefault("run_points", {}), st.session_state.setdefault("evaluations", {})
    notices = run_notices()
    store = run_store()
    classifier = job.result.classifier()
    name = explain(name_of(classifier))  # named from its metadata, in the learner's language
    try:  # its confusion matrix and mistakes, for the results: from the training process if it sent them
        evaluation = job.result.evaluation or resources.evaluate(classifier)
    except DatasetError:
        evaluation = None
    try:  # on disk the queue may have kept it already, as the training ended (ui.keeper)
        run_id = keeper.keep(job, store) if runs_are_on_disk() else store.save(classifier, name).id
    except Exception as error:  # noqa: BLE001 - a full disk, a refused file: keep the run in this session instead
        logging.getLogger(__name__).warning("saving run of job %s failed", job.id, exc_info=True)
        st.session_state.runs_disk_error = f"{resources.settings().runs_dir}: {getattr(error, 'strerror', None) or error}"
        store = run_store()
        run_id = store.save(classifier, name).id
    saved[job.id] = run_id  # no Streamlit call between the save and this line
    notices.setdefault("evicted", []).extend(old.name for old in store.evicted)
    points[run_id] = job.snapshot().points
    if evaluation is not None:
        evaluations[run_id] = evaluation
    st.session_state.selected_run = run_id


def run_notices() -> dict:
    """What the last save did that the user must be told: {"evicted": names of runs it removed}."""
    return st.session_state.setdefault("run_notices", {})


def job_saved(job) -> bool:
    """Whether collect_finished_job has dealt with this job."""
    return job.id in st.session_state.get("saved_jobs", {})

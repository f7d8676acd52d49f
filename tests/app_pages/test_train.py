"""app_pages/train.py under AppTest: every setting and the presets, training leaves a run with
metrics in the session, Stop, divergence, shareable setups (query parameters), where runs are
kept, and the training queue."""
import re
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app_pages.conftest import (ROOT, assert_clean, finish_training, open_page, store, texts, train_one_epoch,
                                      untranslated, wait_until)
from ui import i18n, layout, resources

SETTINGS = ["cfg_preset", "cfg_impl", "cfg_epochs", "cfg_lr", "cfg_batch_size", "cfg_optimizer", "cfg_schedule",
            "cfg_normalize", "cfg_weight_decay", "cfg_init_std", "cfg_naive_softmax", "cfg_seed"]


def test_train_page_has_every_setting_and_the_presets(dataset_available):
    at = open_page("train")
    assert at.title[0].value == "Train"
    for key in SETTINGS:
        assert key in at.session_state, key
    assert at.selectbox(key="cfg_preset").value == "lesson"
    assert at.radio(key="cfg_impl").value == "concise"
    assert at.slider(key="cfg_epochs").value == 10
    assert at.number_input(key="cfg_lr").value == 0.1
    assert at.button(key="start").label == "Start training"
    at.selectbox(key="cfg_preset").set_value("best").run()
    assert_clean(at)
    from model.lesson.config import PRESETS

    best = PRESETS["best"]
    assert at.selectbox(key="cfg_optimizer").value == best.optimizer
    assert at.number_input(key="cfg_lr").value == best.lr
    assert at.slider(key="cfg_epochs").value == best.epochs
    assert at.radio(key="cfg_impl").value == best.impl
    at.radio(key="cfg_impl").set_value("concise").run()
    assert at.checkbox(key="cfg_naive_softmax").disabled  # only the from-scratch softmax can be naive
    assert "No runs yet" in texts(at)


def test_a_short_training_leaves_a_run_with_metrics_in_the_session(dataset_available):
    at = open_page("train")
    at.radio(key="cfg_impl").set_value("scratch")
    at.slider(key="cfg_epochs").set_value(2).run()
    at.button(key="start").click().run()
    assert_clean(at)
    assert "start" not in [b.key for b in at.button]  # one training at a time per session: Start became Stop
    assert at.button(key="stop_job")
    finish_training(at)
    runs = store(at).list()
    assert len(runs) == 1
    run = runs[0]
    assert [h["epoch"] for h in run.history] == [1, 2]
    assert run.config["impl"] == "scratch" and 0.75 < run.test_acc < 0.9
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{run.test_acc:.1%}" and metrics["Epochs"] == "2 of 2"
    assert len(at.get("plotly_chart")) >= 3  # curves, confusion matrix, per-class accuracy
    assert at.get("download_button")
    assert not at.button(key="start").disabled and "stop_job" not in [b.key for b in at.button]

    # A second run: both are listed and their curves can be overlaid.
    at.slider(key="cfg_epochs").set_value(1).run()
    at.button(key="start").click().run()
    finish_training(at)
    assert len(store(at).list()) == 2
    assert len(at.multiselect(key="compare_runs").value) == 2
    table = next(m.value for m in at.markdown if m.value.startswith("| name |"))
    assert all(f"| {run.name} |" in table for run in store(at).list())


def test_a_click_right_after_start_cannot_leave_a_training_nobody_holds(dataset_available, monkeypatch):
    """A click reruns the script: Streamlit stops the running one at its next Streamlit call.
    Simulate a click landing just after Start submitted the training: this session must
    still hold that training (and see it finish), not leave it running unseen in the queue."""
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    from model.service.jobs import TrainingQueue

    submitted, submit = [], TrainingQueue.submit
    yield_point = script_runner.ScriptRunner._maybe_handle_execution_control_request

    def submit_then_click(self, *args, **kwargs):
        submitted.append(submit(self, *args, **kwargs))
        return submitted[-1]

    def stop_at_the_first_yield_after_submitting(self):
        if len(submitted) == 1 and self._is_in_script_thread():
            submitted.append(None)  # stop once
            raise StopException()
        return yield_point(self)

    at = open_page("train", cfg_epochs=1)
    with monkeypatch.context() as patch:
        patch.setattr(TrainingQueue, "submit", submit_then_click)
        patch.setattr(script_runner.ScriptRunner, "_maybe_handle_execution_control_request",
                      stop_at_the_first_yield_after_submitting)
        at.button(key="start").click().run()  # the interrupted run
    assert submitted[1:] == [None], "the simulated click never landed"
    at.run()
    assert at.session_state["training"]["job"] is submitted[0]
    finish_training(at)
    assert len(store(at).list()) == 1


def test_stop_keeps_what_was_learned(dataset_available):
    at = open_page("train")
    at.slider(key="cfg_epochs").set_value(50).run()
    at.button(key="start").click().run()
    job = at.session_state["training"]["job"]
    wait_until(lambda: job.snapshot().points, 60)
    at.run()
    at.button(key="stop_job").click().run()
    assert_clean(at)
    assert job.finished and job.result.stopped
    run = store(at).list()[0]
    assert "stopped in epoch" in run.name and run.test_acc > 0.5
    # The notice says the epoch as the run's name does, which the Epochs figure agrees with.
    epoch = len(run.history) + 1
    assert f"Stopped in epoch {epoch} of 50; the weights learned up to the stop are kept." in texts(at)
    assert f"stopped in epoch {epoch} of 50" in run.name
    shown = next(m.value for m in at.metric if m.label == "Epochs").split()[0]
    assert epoch - 1 <= float(shown) < epoch
    row = next(line for line in texts(at).splitlines() if line.startswith("| concise, lr 0.1, stopped"))
    assert f"| {shown} |" in row  # the runs table counts the epochs as the results do


def diverge(at: AppTest) -> None:
    """One epoch of the lesson's naive softmax at η = 10: its loss blows up."""
    at.radio(key="cfg_impl").set_value("scratch").run()
    at.checkbox(key="cfg_naive_softmax").check()
    at.number_input(key="cfg_lr").set_value(10.0)
    at.slider(key="cfg_epochs").set_value(1).run()
    at.button(key="start").click().run()
    finish_training(at)


def test_divergence_is_a_plain_message_and_keeps_the_last_good_weights(dataset_available):
    at = open_page("train")
    diverge(at)
    errors = [e.value for e in at.error]
    assert any("too large" in e and "smaller" in e for e in errors), errors
    run = store(at).list()[0]
    assert "diverged" in run.name
    classifier = store(at).load_classifier(run.id)
    assert np.isfinite(classifier.weight).all()


# --- shareable setups (query parameters) --------------------------------------------------

def open_link(query: dict, **env) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/train.py")
    at.query_params.update(query)
    at.run()
    assert_clean(at)
    return at


def test_a_link_opens_the_same_setup(dataset_available):
    at = open_link({"preset": "best", "lr": "0.003", "epochs": "7", "impl": "scratch", "optimizer": "momentum"})
    assert at.selectbox(key="cfg_preset").value == "best"
    assert at.number_input(key="cfg_lr").value == 0.003
    assert at.slider(key="cfg_epochs").value == 7
    assert at.radio(key="cfg_impl").value == "scratch"
    assert at.selectbox(key="cfg_optimizer").value == "momentum"
    assert at.selectbox(key="cfg_normalize").value == "standardize"  # from the preset
    assert not at.warning
    # The URL now holds the whole setup, and the share box shows it.
    assert at.query_params["lr"] == "0.003" and at.query_params["epochs"] == "7"
    assert any("lr=0.003" in c.value and "epochs=7" in c.value for c in at.code)


def test_bad_values_in_a_link_are_corrected_with_a_visible_note(dataset_available):
    at = open_link({"lr": "abc", "epochs": "100000", "batch_size": "-5", "optimizer": "rmsprop",
                    "seed": "1.5", "preset": "fastest", "naive_softmax": "maybe"})
    notes = "\n".join(w.value for w in at.warning)
    from model.lesson.config import TrainConfig

    from model.service.settings import Limits

    limits, default = Limits(), TrainConfig()
    assert "'abc'" in notes and "learning rate" in notes
    assert "100000" in notes and str(limits.max_epochs) in notes
    assert "'rmsprop'" in notes and "'fastest'" in notes and "'maybe'" in notes and "'1.5'" in notes
    assert at.number_input(key="cfg_lr").value == default.lr
    assert at.slider(key="cfg_epochs").value == limits.max_epochs
    assert at.number_input(key="cfg_batch_size").value == limits.min_batch_size
    assert at.selectbox(key="cfg_optimizer").value == default.optimizer
    assert at.number_input(key="cfg_seed").value == default.seed
    assert at.query_params["epochs"] == str(limits.max_epochs)  # the URL now holds what is used
    # The notes stay until the learner changes a setting.
    at.run()
    assert at.warning
    at.slider(key="cfg_epochs").set_value(3).run()
    assert not at.warning


def test_changing_a_setting_updates_the_url(dataset_available):
    at = open_page("train")
    at.number_input(key="cfg_lr").set_value(0.25).run()
    assert at.query_params["lr"] == "0.25"
    at.run()  # the page's own URL is not mistaken for a new link
    assert at.number_input(key="cfg_lr").value == 0.25 and not at.warning


# --- where runs are kept -------------------------------------------------------------------

def test_locally_a_run_is_saved_and_listed_in_a_fresh_session(dataset_available, fresh_settings):
    at = open_page("train")
    train_one_epoch(at)
    assert (fresh_settings).is_dir() and len(list(fresh_settings.iterdir())) == 1
    fresh = open_page("train")  # a new browser session (and, as far as the store knows, a restart)
    runs = store(fresh).list()
    assert len(runs) == 1
    assert any(runs[0].name in str(s.value) for s in fresh.subheader)
    assert "listed again after a restart" in texts(fresh)


def test_hosted_runs_stay_in_their_session(dataset_available, monkeypatch):
    monkeypatch.setenv("SOFTMAX_STUDIO_HOSTED", "1")
    resources.settings_from_env.clear()
    at = open_page("train")
    train_one_epoch(at)
    assert len(store(at).list()) == 1
    fresh = open_page("train")
    assert store(fresh).list() == []
    assert "No runs yet" in texts(fresh)
    assert not Path(__import__("os").environ["SOFTMAX_STUDIO_RUNS_DIR"]).exists()  # nothing on disk


def test_runs_can_be_renamed_and_deleted(dataset_available):
    at = open_page("train")
    train_one_epoch(at)
    run = store(at).list()[0]
    at.text_input(key=f"rename_{run.id}").set_value("my first model")
    at.button(key="rename_run").click().run()
    assert_clean(at)
    assert store(at).get(run.id).name == "my first model"
    assert any("my first model" in s.value for s in at.subheader)
    at.text_input(key=f"rename_{run.id}").set_value("   ")
    at.button(key="rename_run").click().run()
    assert any("can't be empty" in e.value for e in at.error)
    at.text_input(key=f"rename_{run.id}").set_value("x" * 101)  # the field has no limit of its own: the store's says why
    at.button(key="rename_run").click().run()
    assert any("at most 100 characters" in e.value for e in at.error)
    assert store(at).get(run.id).name == "my first model"
    at.button(key="delete_run").click().run()
    assert_clean(at)
    assert store(at).list() == []
    assert "No runs yet" in texts(at)


# --- in Chinese ----------------------------------------------------------------------------

def query_value(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value


def test_in_chinese_every_word_is_translated_and_links_keep_the_language(dataset_available):
    at = open_page("train", lang="zh")
    assert at.title[0].value == i18n.text("zh", "train.title")
    assert at.button(key="start").label == "开始训练"
    assert untranslated(at) == []
    # sync_url rewrites the whole query string: the language stays in it, and in the Share link.
    at.number_input(key="cfg_lr").set_value(0.25).run()
    assert query_value(at, "lr") == "0.25" and query_value(at, "lang") == "zh"
    assert any("lang=zh" in c.value and "lr=0.25" in c.value for c in at.code)
    at.number_input(key="cfg_lr").set_value(0.1).run()
    train_one_epoch(at)  # the lesson preset, one epoch
    names = tuple(r.name for r in store(at).list())
    assert len(names) == 1
    assert untranslated(at, names=names) == []
    assert any(names[0] in s.value and s.value.startswith("结果") for s in at.subheader)
    assert "| 名称 |" in "\n".join(m.value for m in at.markdown)  # the runs table
    assert query_value(at, "lang") == "zh" and any("lang=zh" in c.value for c in at.code)


def test_a_shared_link_opens_in_its_language_and_lang_is_no_setting(dataset_available):
    at = open_link({"lang": "zh", "preset": "best", "epochs": "7"})
    assert at.session_state["lang"] == "zh" and at.title[0].value == i18n.text("zh", "train.title")
    assert at.slider(key="cfg_epochs").value == 7 and not at.warning
    assert query_value(at, "lang") == "zh" and query_value(at, "epochs") == "7"
    at.run()  # the page's own URL, language included, is not mistaken for a new link
    assert at.slider(key="cfg_epochs").value == 7 and not at.warning


# --- the training queue ------------------------------------------------------------------

def test_a_second_training_waits_in_line_and_can_be_cancelled(dataset_available, monkeypatch):
    monkeypatch.setenv("SOFTMAX_STUDIO_MAX_TRAININGS", "1")
    monkeypatch.setenv("SOFTMAX_STUDIO_HOSTED", "1")  # two people (locally a second tab takes over the first's)
    resources.settings_from_env.clear()
    resources.training_queue.clear()
    try:
        first = open_page("train")
        first.slider(key="cfg_epochs").set_value(50).run()
        first.button(key="start").click().run()
        second = open_page("train")  # another browser session
        second.slider(key="cfg_epochs").set_value(1).run()
        second.button(key="start").click().run()
        assert_clean(second)
        assert "You are number **1** in line" in texts(second)
        second.button(key="stop_job").click().run()
        assert_clean(second)
        assert second.session_state["training"]["job"].status.value == "cancelled"
        assert "cancelled before it started" in texts(second)
        assert "start" in [b.key for b in second.button]
        first.session_state["training"]["job"].stop()
        finish_training(first)
    finally:
        resources.settings_from_env.clear()
        resources.training_queue.clear()


# --- runs a user can't break ----------------------------------------------------------------

HOSTILE_NAME = "![x](http://127.0.0.1:9/track.png) <img src=x> :red[red] $x^2$ [link](http://e.x)"


def test_run_names_are_shown_as_plain_text_everywhere(dataset_available):
    at = open_page("train")
    train_one_epoch(at)
    train_one_epoch(at)
    run = store(at).list()[0]
    at.text_input(key=f"rename_{run.id}").set_value(HOSTILE_NAME)
    at.button(key="rename_run").click().run()
    assert_clean(at)
    assert store(at).get(run.id).name == HOSTILE_NAME
    escaped = layout.plain(HOSTILE_NAME)
    sources = [s.value for s in at.subheader] + [m.value for m in at.markdown]
    assert any(escaped in text for text in sources)  # the subheader, the table and the Delete popover
    for text in sources:
        live = re.sub(r"\\.", "", text)  # what is left once escaped characters are taken out
        assert "![" not in live and "<img" not in live and ":red[" not in live and "](" not in live


def test_plain_escapes_every_markup_start_and_keeps_one_line():
    assert layout.plain("a\nb\u202ec") == "a b c"
    assert layout.plain("![i](u)") == "\\!\\[i\\]\\(u\\)"
    assert layout.plain("lr 0.1, 84.1% — 中文") == "lr 0.1, 84.1% — 中文"
    assert layout.plain("http://a.b www.c.d e@f.g") == "http\u2060\\://a.b www\u2060.c.d e@\u2060f.g"  # no autolinks


def test_a_damaged_run_is_named_with_its_reason_and_can_be_deleted(dataset_available, fresh_settings):
    import json

    at = open_page("train")
    train_one_epoch(at)
    train_one_epoch(at)
    damaged = store(at).list()[0]
    raw = json.loads((damaged.path / "run.json").read_text())
    for entry in raw["history"]:
        del entry["seconds"]  # the reported damage: a KeyError in the runs table for everyone
    (damaged.path / "run.json").write_text(json.dumps(raw))
    fresh = open_page("train")
    assert_clean(fresh)
    assert len(store(fresh).list()) == 1  # the intact run is still listed
    assert any(damaged.id in e.value and "has no 'seconds'" in e.value for e in fresh.error)
    fresh.button(key=f"delete_damaged_{damaged.id}").click().run()
    assert_clean(fresh)
    assert not damaged.path.exists() and not any(damaged.id in e.value for e in fresh.error)


def test_a_run_whose_file_starts_with_0x80_is_kept(dataset_available, monkeypatch):
    """1 in 32 of our own checkpoints has 0x80 as its first byte; such a run was refused as a
    pickle by the store's self-check, lost, and an error box showed on every rerun."""
    from model.files import checkpoint

    made = checkpoint.to_bytes

    def padded(classifier, **meta):
        for pad in range(512):
            data = made(classifier, pad="x" * pad, **meta)
            if data[0] == 0x80:
                return data
        raise AssertionError("no padding gave a 0x80 first byte")

    monkeypatch.setattr(checkpoint, "to_bytes", padded)
    at = open_page("train")
    train_one_epoch(at)
    assert_clean(at)
    runs = store(at).list()
    assert len(runs) == 1 and (runs[0].path / "model.safetensors").read_bytes()[0] == 0x80
    assert not at.error and "can't be saved" not in texts(at)


def test_a_hosted_session_is_told_when_its_oldest_run_is_removed(dataset_available, monkeypatch):
    from model.service.runs import MemoryRunStore
    monkeypatch.setenv("SOFTMAX_STUDIO_HOSTED", "1")
    resources.settings_from_env.clear()
    at = open_page("train", run_store=MemoryRunStore(keep=2))
    train_one_epoch(at)
    first = store(at).list()[0]
    train_one_epoch(at)
    assert not at.warning
    train_one_epoch(at)
    assert any("oldest run was removed" in w.value and layout.plain(first.name) in w.value for w in at.warning)
    assert first.id not in [r.id for r in store(at).list()]
    at.run()
    assert not any("oldest" in w.value for w in at.warning)  # said once, when it happened


def test_a_visitor_over_the_queue_limit_is_told_to_try_again(dataset_available, monkeypatch):
    monkeypatch.setenv("SOFTMAX_STUDIO_MAX_TRAININGS", "1")
    monkeypatch.setenv("SOFTMAX_STUDIO_MAX_QUEUE", "1")
    monkeypatch.setenv("SOFTMAX_STUDIO_FUSE", "1")  # the second Start may not join the first one's group
    monkeypatch.setenv("SOFTMAX_STUDIO_HOSTED", "1")  # visitors (locally a second tab takes over the first's)
    resources.settings_from_env.clear()
    resources.training_queue.clear()
    try:
        sessions = [open_page("train") for _ in range(3)]
        for at in sessions:
            at.slider(key="cfg_epochs").set_value(50).run()
            at.button(key="start").click().run()
            assert_clean(at)
        assert "You are number **1** in line" in texts(sessions[1])
        assert any("The server is busy" in e.value and "Try again" in e.value for e in sessions[2].error)
        assert "start" in [b.key for b in sessions[2].button]  # nothing was queued for it
        for at in sessions[:2]:
            at.session_state["training"]["job"].stop()
        finish_training(sessions[0])
    finally:
        resources.settings_from_env.clear()
        resources.training_queue.clear()


def test_a_confusion_cell_opens_its_most_confident_mistake_in_predict_with_why(dataset_available):
    import json

    from tests.app_pages.test_predict import numbers

    from model.lesson.analysis import evaluate
    from model.files.data import load_split_numpy

    at = open_page("train")
    train_one_epoch(at)
    run = store(at).list()[0]
    charts = [chart.key for chart in at.get("plotly_chart")]
    assert "result_curves" in charts and "result_d2l" not in charts  # only the open tab's chart is sent
    at.session_state["result_tab"] = "Per epoch, as d2l draws it"  # the learner opens the chapter's own chart
    at.run()
    charts = [chart.key for chart in at.get("plotly_chart")]
    assert "result_d2l" in charts and "result_curves" not in charts
    d2l = json.loads(at.get("plotly_chart")[charts.index("result_d2l")].proto.spec)
    assert numbers(d2l["data"][2]["y"])[0] == pytest.approx(run.history[0]["test_acc"])

    true, predicted = at.selectbox(key="why_cell").value  # the largest cell first
    images, labels = load_split_numpy("test")
    ev = evaluate(store(at).load_classifier(run.id), images, labels)
    assert ev.matrix[true, predicted] == max(ev.matrix[a, b] for a in range(10) for b in range(10) if a != b)
    at.button(key="why_open").click().run()
    assert_clean(at)
    index = at.session_state["test_index"]
    assert (labels[index], ev.predicted[index]) == (true, predicted)
    assert at.session_state["predict_model"] == f"run:{run.id}"
    title = i18n.text("en", "lesson.why_not.title", chosen=layout.class_name(predicted, lang="en"),
                      other=layout.class_name(true, lang="en"))
    assert title in [h.value for h in at.subheader]  # why it took the true class for the other one


def test_one_minibatch_at_a_time_counts_each_click_and_keeps_the_run(dataset_available):
    import time

    at = open_page("train")
    at.slider(key="cfg_epochs").set_value(1).run()
    at.segmented_control(key="train_speed").set_value("step").run()
    at.button(key="start").click().run()
    assert_clean(at)
    job = at.session_state["training"]["job"]
    assert job.pace == 0
    at.button(key="next_batch").click().run()
    at.button(key="next_ten").click().run()
    wait_until(lambda: job.snapshot().batches >= 11, 20)
    time.sleep(0.3)
    assert job.snapshot().batches == 11  # one, then ten more: nothing else
    at.run()
    assert "Minibatch **11** of 235 (epoch 1 of 1)" in texts(at)
    assert len(job.snapshot().points) == 11  # every minibatch drawn
    at.button(key="stop_job").click().run()
    finish_training(at)
    run = store(at).list()[0]
    assert store(at).load_classifier(run.id).metadata["stopped"]  # what the 11 minibatches learned is a run
    # Its results count what it trained, 11 of 235 minibatches, and the time it took: not "0 of 1" and "0.0 s".
    shown = {m.label: m.value for m in at.metric}
    assert shown["Epochs"] == "0.047 of 1" and shown["Training time"] != "0.0 s"
    assert "there are no curves to draw" not in texts(at)  # it drew a point at every minibatch


def test_the_engines_words_come_in_chinese_too(dataset_available):
    # A shared link with values the server corrects ...
    at = open_link({"lang": "zh", "lr": "abc", "epochs": "9999"})
    warning = at.warning[0].value
    assert "学习率 'abc' 不是数字" in warning and "超过了这台服务器的上限" in warning, warning
    assert untranslated(at) == []
    # ... and a run whose loss blew up, told in Chinese from its saved English text.
    diverge(at)
    errors = [e.value for e in at.error]
    assert any("学习率 10 太大" in e and "朴素 softmax" in e for e in errors), errors
    assert store(at).list()[0].name.startswith("从零开始实现，学习率 10，在第 1 个迭代周期发散（共 1 个）")  # named in Chinese
    assert untranslated(at, names=tuple(r.name for r in store(at).list())) == []


def test_a_sweep_of_learning_rates_trains_together_and_keeps_a_run_each(dataset_available):
    at = open_page("train")
    at.slider(key="cfg_epochs").set_value(1).run()
    assert at.selectbox(key="sweep_setting").value == "lr"
    assert at.multiselect(key="sweep_values_lr").value == [0.01, 0.1, 1.0]
    at.button(key="start_sweep").click().run()
    assert_clean(at)
    jobs = at.session_state["training"]["sweep"]
    assert [job.config.lr for job in jobs] == [0.01, 0.1, 1.0]
    assert "start" not in [b.key for b in at.button] and at.button(key="stop_job")  # one thing at a time
    assert all(job.wait(120) for job in jobs)
    at.run()
    assert_clean(at)
    runs = store(at).list()
    assert sorted(r.config["lr"] for r in runs) == [0.01, 0.1, 1.0]  # each value kept as a run
    assert sorted(at.multiselect(key="compare_runs").value) == sorted(r.id for r in runs)  # overlaid
    by_lr = {r.config["lr"]: r.test_acc for r in runs}
    assert by_lr[0.1] > by_lr[0.01]  # the exercise's answer shows: too small a step learns slowly


def test_a_sweep_says_it_trains_at_full_speed_when_slow_motion_is_chosen(dataset_available):
    at = open_page("train")
    assert "A sweep always trains as fast as possible" not in texts(at)
    at.segmented_control(key="train_speed").set_value("slow").run()
    assert "A sweep always trains as fast as possible" in texts(at)
    at.button(key="start_sweep").click().run()
    jobs = at.session_state["training"]["sweep"]
    assert all(job.pace is None for job in jobs)  # as the caption says
    for job in jobs:
        job.stop()
    assert all(job.wait(30) for job in jobs)


def test_a_sweep_of_the_naive_softmax_says_each_value_trains_on_its_own(dataset_available):
    at = open_page("train")
    assert "on the same minibatches, in one pass" in texts(at)
    at.radio(key="cfg_impl").set_value("scratch").run()
    at.checkbox(key="cfg_naive_softmax").check()
    at.slider(key="cfg_epochs").set_value(1).run()
    assert "so each value trains on its own" in texts(at) and "in one pass" not in texts(at)
    assert "naive softmax on" in texts(at)  # the setup's caption, not Python's True
    at.button(key="start_sweep").click().run()
    assert_clean(at)
    jobs = at.session_state["training"]["sweep"]
    assert "each on its own" in texts(at) and "side by side" not in texts(at)
    assert all(job.wait(120) for job in jobs)
    at.run()
    assert len(store(at).list()) == 3


def test_runs_stopped_in_their_first_epoch_say_why_a_chart_is_empty(dataset_available):
    at = open_page("train")
    for _ in range(2):  # two runs that each take 3 minibatches, then stop
        at.segmented_control(key="train_speed").set_value("step").run()
        at.button(key="start").click().run()
        job = at.session_state["training"]["job"]
        for _ in range(3):
            at.button(key="next_batch").click().run()
        wait_until(lambda: job.snapshot().batches >= 3, 20)
        at.button(key="stop_job").click().run()
        finish_training(at)
    assert len(store(at).list()) == 2 and all(not r.history for r in store(at).list())
    # Both are chosen for comparing, but neither finished an epoch: said, not an empty chart.
    assert len(at.multiselect(key="compare_runs").value) == 2
    assert "there are no epochs to compare yet" in texts(at)
    assert "compare_curves" not in [chart.key for chart in at.get("plotly_chart")]
    # The chapter's per-epoch plot of such a run: why it has no points yet.
    at.session_state["result_tab"] = "Per epoch, as d2l draws it"
    at.run()
    assert "No epoch has finished yet" in texts(at)
    assert "result_d2l" not in [chart.key for chart in at.get("plotly_chart")]


def test_locally_a_training_whose_tab_was_closed_is_kept_once_in_its_language(dataset_available, fresh_settings):
    at = open_page("train")
    at.query_params["lang"] = "zh"
    at.run()
    at.slider(key="cfg_epochs").set_value(20).run()
    at.button(key="start").click().run()
    job = at.session_state["training"]["job"]
    # The tab is closed: its page never runs again. The queue keeps the run as the training ends.
    assert job.wait(120)
    wait_until(lambda: store(at).list(), 10)
    runs = store(open_page("train")).list()  # what a new tab finds
    assert len(runs) == 1 and runs[0].name.startswith("简洁实现") and len(runs[0].history) == 20
    at.run()  # the old tab comes back: its run is that one, not a second copy
    assert_clean(at)
    assert [r.id for r in store(at).list()] == [runs[0].id] and at.session_state["selected_run"] == runs[0].id


def test_locally_a_reloaded_tab_shows_the_training_still_running_and_stops_it(dataset_available):
    first = open_page("train")
    first.slider(key="cfg_epochs").set_value(50).run()
    first.button(key="start").click().run()
    job = first.session_state["training"]["job"]
    # The page is reloaded (a new session): it shows that training live, with its Stop.
    reloaded = open_page("train")
    assert reloaded.session_state["training"]["job"] is job and not job.finished
    assert [b.key for b in reloaded.button if b.key in ("start", "stop_job")] == ["stop_job"]
    assert "started elsewhere" not in texts(reloaded)  # it is this tab's to watch now
    reloaded.button(key="stop_job").click().run()
    assert_clean(reloaded)
    assert job.finished and job.result.stopped
    assert "the weights learned up to the stop are kept" in texts(reloaded)
    runs = store(reloaded).list()
    assert len(runs) == 1 and "stopped in epoch" in runs[0].name
    first.run()  # the first tab comes back: the same run, not a copy, and no training to take
    assert_clean(first)
    assert [r.id for r in store(first).list()] == [runs[0].id] and first.session_state["selected_run"] == runs[0].id
    assert "start" in [b.key for b in open_page("train").button]


def test_locally_a_reloaded_tab_shows_a_sweep_still_running(dataset_available):
    first = open_page("train")
    first.slider(key="cfg_epochs").set_value(50).run()
    first.button(key="start_sweep").click().run()
    jobs = first.session_state["training"]["sweep"]
    wait_until(lambda: all(job.snapshot().points for job in jobs), 60)  # all three learning: stopped in line, a job has nothing to keep
    reloaded = open_page("train")
    assert reloaded.session_state["training"]["sweep"] == jobs
    assert "A sweep of 3 trainings, side by side" in texts(reloaded)
    reloaded.button(key="stop_job").click().run()
    assert_clean(reloaded)
    assert all(job.wait(30) and job.result.stopped for job in jobs)
    reloaded.run()
    assert len(store(reloaded).list()) == 3


def test_a_hosted_tab_never_shows_another_visitors_training(dataset_available, monkeypatch):
    from ui import resources

    monkeypatch.setenv("SOFTMAX_STUDIO_HOSTED", "1")
    resources.settings_from_env.clear()
    first = open_page("train")
    first.slider(key="cfg_epochs").set_value(50).run()
    first.button(key="start").click().run()
    job = first.session_state["training"]["job"]
    assert "reloading or closing it stops the training" in texts(first)  # said while it trains
    other = open_page("train")
    assert other.session_state["training"].get("job") is None
    assert [b.key for b in other.button if b.key in ("start", "stop_job")] == ["start"]
    assert "started elsewhere" not in texts(other)
    job.stop()
    assert job.wait(30)


def test_locally_two_tabs_open_before_either_trains_each_tell_of_the_others_training(dataset_available):
    first, second = open_page("train"), open_page("train")
    assert "reloading or closing it" not in texts(first)  # locally the run is kept whatever the tab does
    for at in (first, second):
        at.slider(key="cfg_epochs").set_value(50).run()
    jobs = []
    for at in (first, second):  # both pages show Start: each click is its own training
        at.button(key="start").click().run()
        jobs.append(at.session_state["training"]["job"])
    assert jobs[0] is not jobs[1]
    # Equal settings: the second waits a moment in line, then trains in the first one's pass.
    deadline = time.monotonic() + 5
    while jobs[1].status.value == "queued" and time.monotonic() < deadline:
        time.sleep(0.02)
    first.run()
    assert "A training started elsewhere (another tab, or one since closed) is running" in texts(first)
    for job in jobs:
        job.stop()
    assert all(job.wait(30) for job in jobs)


def test_a_default_run_name_follows_the_language_and_a_given_one_stays(dataset_available):
    at = open_page("train")
    at.query_params["lang"] = "zh"
    at.run()
    train_one_epoch(at)
    run = store(at).list()[0]
    assert run.name.startswith("简洁实现")  # written in the language it was trained in
    at.query_params["lang"] = "en"
    at.run()
    assert any(s.value.startswith("Results: concise, lr 0.1, 1 epoch") for s in at.subheader)
    assert "简洁实现" not in texts(at)
    store(at).rename(run.id, "我的第一个模型")  # a name the learner gave: as written, in any language
    at.run()
    assert any(s.value == "Results: 我的第一个模型" for s in at.subheader)


def test_two_runs_that_end_alike_are_told_apart_in_every_list(dataset_available):
    at = open_page("train")
    train_one_epoch(at)
    train_one_epoch(at)  # the same seed: the same accuracy, so the same default name
    older, newer = sorted(store(at).list(), key=lambda r: r.created)
    assert older.name == newer.name
    assert set(at.selectbox(key="selected_run").options) == {older.name, f"(2) {older.name}"}  # the number first: a narrow menu cuts the end
    # The runs table writes the settings as the setup does: SGD, not sgd.
    row = next(line for line in texts(at).splitlines() if line.startswith("| concise, lr 0.1"))
    assert row.endswith("| concise | SGD | 0.1 | 256 |"), row
    assert any(s.value.replace("\\", "") == f"Results: (2) {older.name}" for s in at.subheader)  # the newest; markdown-escaped
    predict = open_page("predict")
    radio = predict.radio(key="predict_model")
    assert {f"Run: {older.name}", f"Run: (2) {older.name}"} <= {option.replace("\\", "") for option in radio.options}

import math
from dataclasses import fields, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from model.service.settings import (MAX_SEED, Limits, Settings, available_cpus, config_from_params, config_to_params,
                            load_settings)
from model.lesson.config import PRESETS, TrainConfig, preset

LIMITS = Limits()


# --- Limits.clamp -------------------------------------------------------------------------

def test_clamp_leaves_a_config_inside_the_limits_alone():
    for config in PRESETS.values():
        assert LIMITS.clamp(config) == (config, [])


def test_clamp_moves_each_out_of_range_value_to_the_limit_with_one_note_each():
    config = TrainConfig(epochs=5000, batch_size=1, lr=1e3, weight_decay=-1.0, init_std=7.0, seed=-5)
    clamped, notes = LIMITS.clamp(config)
    assert (clamped.epochs, clamped.batch_size, clamped.lr) == (50, 8, 10.0)
    assert (clamped.weight_decay, clamped.init_std, clamped.seed) == (0.0, 1.0, 0)
    assert len(notes) == 6
    assert "epochs 5000 is above this server's limit of 50; using 50" in notes
    assert "batch size 1 is below this server's minimum of 8; using 8" in notes
    assert any(n.startswith("learning rate 1000 is above") for n in notes)
    clamped.validate()


def test_clamp_replaces_values_that_are_not_numbers_with_the_default():
    clamped, notes = LIMITS.clamp(TrainConfig(lr=math.nan, weight_decay=math.inf))
    assert (clamped.lr, clamped.weight_decay) == (TrainConfig().lr, TrainConfig().weight_decay)
    assert notes == ["learning rate nan is not a number; using 0.1", "weight decay inf is not a number; using 0"]


def test_clamp_handles_integers_too_big_for_a_float():
    clamped, notes = LIMITS.clamp(TrainConfig(epochs=10**400))
    assert clamped.epochs == 50 and len(notes) == 1


def test_clamp_uses_custom_limits():
    clamped, notes = Limits(max_epochs=3, max_batch_size=64).clamp(TrainConfig(epochs=4, batch_size=256))
    assert (clamped.epochs, clamped.batch_size) == (3, 64)
    assert notes == ["epochs 4 is above this server's limit of 3; using 3",
                     "batch size 256 is above this server's limit of 64; using 64"]


@pytest.mark.parametrize("bad", [dict(max_epochs=0), dict(min_batch_size=0), dict(min_batch_size=64, max_batch_size=32),
                                 dict(min_lr=0.0), dict(min_lr=1.0, max_lr=0.5), dict(max_lr=math.inf),
                                 dict(max_weight_decay=-1.0), dict(max_init_std=math.nan)])
def test_impossible_limits_are_refused(bad):
    with pytest.raises(ValueError):
        Limits(**bad)


# --- Settings and load_settings -----------------------------------------------------------

def test_defaults_are_local_with_runs_in_the_project_and_one_training_per_cpu():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.hosted is False
    assert settings.runs_dir == Path(__file__).resolve().parents[3] / "runs"
    assert settings.max_concurrent_trainings == available_cpus()  # in niced child processes: pages answer first
    assert settings.limits == Limits()


def test_every_environment_variable_is_read():
    settings = load_settings({"SOFTMAX_STUDIO_HOSTED": "True", "SOFTMAX_STUDIO_MAX_TRAININGS": "3",
                              "SOFTMAX_STUDIO_RUNS_DIR": "~/somewhere", "SOFTMAX_STUDIO_MAX_EPOCHS": "20",
                              "SOFTMAX_STUDIO_MAX_BATCH_SIZE": " 512 "})
    assert settings.hosted is True
    assert settings.max_concurrent_trainings == 3
    assert settings.runs_dir == Path("~/somewhere").expanduser()
    assert (settings.limits.max_epochs, settings.limits.max_batch_size) == (20, 512)
    assert settings.limits.min_batch_size == Limits().min_batch_size
    assert settings.abandon_seconds == 6.0 and settings.max_waiting == 40  # a hosted server's defaults
    tuned = load_settings({"SOFTMAX_STUDIO_HOSTED": "1", "SOFTMAX_STUDIO_MAX_QUEUE": "5",
                           "SOFTMAX_STUDIO_ABANDON_SECONDS": "20", "SOFTMAX_STUDIO_FUSE": "3",
                           "SOFTMAX_STUDIO_TRAININGS_PER_PROCESS": "2"})
    assert (tuned.max_waiting, tuned.abandon_seconds, tuned.max_fused, tuned.trainings_per_process) == (5, 20, 3, 2)
    assert load_settings({}).trainings_per_process == 1
    assert load_settings({"SOFTMAX_STUDIO_HOSTED": "1", "SOFTMAX_STUDIO_ABANDON_SECONDS": "0"}).abandon_seconds is None
    assert load_settings({}).abandon_seconds is None  # locally the one user's trainings are never abandoned


@pytest.mark.parametrize("text, hosted", [("1", True), ("yes", True), ("ON", True), ("0", False), ("false", False),
                                          ("", False), ("  ", False)])
def test_hosted_accepts_the_usual_spellings(text, hosted):
    assert load_settings({"SOFTMAX_STUDIO_HOSTED": text}).hosted is hosted


@pytest.mark.parametrize("name, value", [("SOFTMAX_STUDIO_HOSTED", "maybe"), ("SOFTMAX_STUDIO_MAX_TRAININGS", "two"),
                                         ("SOFTMAX_STUDIO_MAX_TRAININGS", "0"), ("SOFTMAX_STUDIO_MAX_EPOCHS", "1.5"),
                                         ("SOFTMAX_STUDIO_MAX_EPOCHS", "-1"), ("SOFTMAX_STUDIO_MAX_BATCH_SIZE", "4"),
                                         ("SOFTMAX_STUDIO_MAX_BATCH_SIZE", "lots"), ("SOFTMAX_STUDIO_MAX_QUEUE", "0"),
                                         ("SOFTMAX_STUDIO_ABANDON_SECONDS", "soon")])
def test_a_bad_environment_value_names_the_variable(name, value):
    with pytest.raises(ValueError, match=name):
        load_settings({name: value})


def test_threads_per_training_share_the_cpus(monkeypatch):
    monkeypatch.setattr("model.service.settings.available_cpus", lambda: 8)  # 8 train, the threads of 7
    assert Settings().max_concurrent_trainings == 8 and Settings().torch_threads() == 1
    assert Settings(max_concurrent_trainings=2).torch_threads() == 3
    assert Settings(max_concurrent_trainings=3).torch_threads() == 2
    assert Settings(max_concurrent_trainings=16).torch_threads() == 1


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "200000 100000\n"}, 2),            # cgroup v2, 2 CPUs
    ({"cpu.max": "50000 100000\n"}, 1),             # half a CPU still runs one training
    ({"cpu.max": "max 100000\n"}, None),            # v2, no quota
    ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3),  # cgroup v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({"cpu.max": "garbage"}, None),
    ({}, None),
])
def test_available_cpus_respects_a_container_quota(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    unlimited = available_cpus(tmp_path / "nonexistent")
    assert available_cpus(tmp_path) == (min(unlimited, expected) if expected else unlimited)


def test_a_quota_smaller_than_the_machine_wins(tmp_path):
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    assert available_cpus(tmp_path) == 1


# --- shareable links ----------------------------------------------------------------------

def test_params_hold_every_setting_as_strings():
    params = config_to_params(preset("best"), "best")
    assert list(params) == ["preset"] + [f.name for f in fields(TrainConfig)]
    assert all(isinstance(v, str) for v in params.values())
    assert params["naive_softmax"] == "false" and params["optimizer"] == "adam"
    assert "preset" not in config_to_params(TrainConfig())


@pytest.mark.parametrize("config", [TrainConfig(), preset("best"),
                                    TrainConfig(impl="scratch", naive_softmax=True, lr=0.1 + 0.2, init_std=1e-5,
                                                weight_decay=3.3e-4, seed=MAX_SEED, epochs=50, batch_size=8)])
def test_a_link_round_trips_exactly(config):
    assert config_from_params(config_to_params(config, "lesson"), LIMITS) == (config, "lesson", [])


def test_a_preset_alone_gives_that_preset():
    assert config_from_params({"preset": "best"}, LIMITS) == (PRESETS["best"], "best", [])
    assert config_from_params({}, LIMITS) == (TrainConfig(), None, [])


def test_given_values_override_the_preset():
    config, name, notes = config_from_params({"preset": "best", "epochs": "3", "optimizer": " SGD "}, LIMITS)
    assert (name, notes) == ("best", [])
    assert config == replace(PRESETS["best"], epochs=3, optimizer="sgd")


def test_an_unknown_preset_falls_back_to_the_defaults_with_a_note():
    config, name, notes = config_from_params({"preset": "fastest", "lr": "0.5"}, LIMITS)
    assert config == TrainConfig(lr=0.5) and name is None
    assert notes == ["preset 'fastest' in the link is not one of lesson, best; using the default settings"]


@pytest.mark.parametrize("name, text, reason", [
    ("epochs", "ten", "is not a number"), ("epochs", "2.5", "is not a whole number"),
    ("lr", "inf", "is not a finite number"), ("lr", "", "is not a number"),
    ("impl", "keras", "is not one of scratch, concise"), ("naive_softmax", "2", "is not true or false"),
    ("seed", "1e999", "is not a finite number"),
])
def test_an_unreadable_value_becomes_the_presets_value_with_a_note(name, text, reason):
    config, _, notes = config_from_params({"preset": "best", name: text}, LIMITS)
    assert getattr(config, name) == getattr(PRESETS["best"], name)
    assert len(notes) == 1 and reason in notes[0] and repr(text) in notes[0]


def test_out_of_range_values_in_a_link_are_clamped_with_a_note():
    config, _, notes = config_from_params({"epochs": "1e6", "batch_size": "99999999999999999999999", "lr": "-1"}, LIMITS)
    assert (config.epochs, config.batch_size, config.lr) == (50, 1024, 1e-6)
    assert len(notes) == 3


def test_unknown_keys_are_ignored():
    assert config_from_params({"page": "train", "utm_source": "mail"}, LIMITS) == (TrainConfig(), None, [])


def test_a_note_quotes_at_most_a_little_of_a_long_junk_value():
    _, _, notes = config_from_params({"impl": "x" * 10_000, "preset": "y" * 10_000}, LIMITS)
    assert len(notes) == 2 and all(len(n) < 200 for n in notes)


junk = st.one_of(st.text(max_size=30), st.sampled_from(["nan", "-inf", "1e308", "-0", "0x10", "1_000", "true", "adam"]),
                 st.integers(-10**30, 10**30).map(str), st.floats(allow_nan=True).map(repr))


# A busy 2-core CI machine can make the first draws slow; that says nothing about the code.
@hypothesis_settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["preset"] + [f.name for f in fields(TrainConfig)]), junk))
def test_any_link_gives_a_config_that_trains_within_the_limits(params):
    config, name, notes = config_from_params(params, LIMITS)
    config.validate()
    assert name in (None, *PRESETS)
    assert 1 <= config.epochs <= LIMITS.max_epochs
    assert LIMITS.min_batch_size <= config.batch_size <= LIMITS.max_batch_size
    assert LIMITS.min_lr <= config.lr <= LIMITS.max_lr
    assert 0 <= config.weight_decay <= LIMITS.max_weight_decay and 0 <= config.init_std <= LIMITS.max_init_std
    assert 0 <= config.seed <= MAX_SEED
    assert all(isinstance(n, str) for n in notes)

"""model.lesson.config: one rule per setting, the same for validate() and the CLI's arguments."""
import subprocess
import sys
from dataclasses import replace

import pytest

from model.lesson.config import RULES, preset, problem

BAD = {"epochs": 0, "batch_size": -3, "lr": -1.0, "weight_decay": float("inf"), "init_std": float("nan")}


@pytest.mark.parametrize("name", list(RULES))
def test_validate_refuses_what_the_rule_refuses_with_its_reason(name):
    reason = problem(name, BAD[name])
    assert reason
    with pytest.raises(ValueError, match=reason):
        replace(preset("lesson"), **{name: BAD[name]}).validate()
    assert problem(name, getattr(preset("lesson"), name)) is None


@pytest.mark.parametrize("flag, name", [("--epochs", "epochs"), ("--batch-size", "batch_size"), ("--lr", "lr"),
                                        ("--weight-decay", "weight_decay")])
def test_the_cli_checks_each_argument_by_the_same_rule(flag, name):
    run = subprocess.run([sys.executable, "-m", "model", "train", flag, str(BAD[name])], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and f"{flag}: {problem(name, BAD[name])}" in run.stderr


def test_choices_are_checked_too():
    assert problem("optimizer", "adam") is None and "sgd, momentum, adam" in problem("optimizer", "rmsprop")

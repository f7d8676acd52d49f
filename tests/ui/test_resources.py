"""ui.resources: how often a watched training redraws as more people train."""
from types import SimpleNamespace

import pytest

from ui import resources


@pytest.mark.parametrize("running, waiting, seconds", [(1, 0, 0.5), (2, 6, 0.5), (2, 7, 1.0), (16, 0, 1.0),
                                                       (2, 15, 2.0), (16, 24, 2.0)])
def test_a_class_redraws_its_trainings_less_often_than_one_learner(monkeypatch, running, waiting, seconds):
    monkeypatch.setattr(resources, "training_queue", lambda: SimpleNamespace(running=running, waiting=waiting))
    assert resources.redraw_seconds() == seconds

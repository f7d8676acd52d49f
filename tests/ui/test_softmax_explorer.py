"""ui.softmax_explorer: the table and the loss follow the sliders, and scaling the logits up
makes the naive column overflow while the stable one still sums to 1."""
import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from model import CLASSES
from tests.app_pages.conftest import untranslated
from ui import i18n

LOGITS = np.array([2.0, -1.0, 0.5, 3.0, -4.0, 0.0, 1.5, -2.5, 1.0, 0.25], dtype=np.float32)


def app(logits, names):
    from ui.softmax_explorer import softmax_explorer

    softmax_explorer(logits, names)


def explorer(lang="en") -> AppTest:
    at = AppTest.from_function(app, args=(LOGITS, list(CLASSES)), default_timeout=30)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_rows(at: AppTest) -> dict[str, list[str]]:
    table = next(m.value for m in at.markdown if m.value.startswith("| "))
    cells = [[c.strip().replace("\\", "") for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    return {row[0]: row[1:] for row in cells}


def loss_shown(at: AppTest) -> float:
    return float(at.metric[0].value)


def test_the_table_is_the_lessons_softmax_and_the_loss_is_minus_log_y_hat():
    at = explorer()
    rows = table_rows(at)
    expected = torch.softmax(torch.tensor(LOGITS), 0).numpy()
    assert [float(rows[name][3]) for name in CLASSES] == pytest.approx(expected, abs=1e-4)
    assert float(rows["T-shirt/top"][1]) == pytest.approx(np.exp(2.0), rel=1e-3)
    assert at.success and not at.error
    at.selectbox(key="softmax_explorer_truth").set_value(4).run()  # Coat, the smallest logit
    assert loss_shown(at) == pytest.approx(-torch.log_softmax(torch.tensor(LOGITS), 0)[4].item(), abs=1e-4)


def test_temperature_and_a_dragged_logit_change_y_hat():
    at = explorer()
    top = float(table_rows(at)["Dress"][3])
    at.slider(key="softmax_explorer_temperature").set_value(3.0).run()
    assert float(table_rows(at)["Dress"][3]) < top  # a hotter softmax is flatter
    at.slider(key="softmax_explorer_temperature").set_value(1.0).run()
    at.slider(key="softmax_explorer_drag_3").set_value(-5.0).run()  # Dress, dragged down
    changed = LOGITS.copy()
    changed[3] = -5.0
    rows = table_rows(at)
    assert float(rows["Dress"][0]) == -5.0
    assert float(rows["Dress"][3]) == pytest.approx(torch.softmax(torch.tensor(changed), 0)[3].item(), abs=1e-4)


def test_scaled_up_logits_overflow_the_naive_column_only():
    at = explorer()
    at.slider(key="softmax_explorer_scale").set_value(40).run()  # 3 x 40 = 120 > 88
    rows = table_rows(at)
    assert rows["Dress"][1] == "inf" and rows["Dress"][2] == "nan"
    assert float(rows["Dress"][3]) == pytest.approx(1.0, abs=1e-4)
    assert at.error and i18n.text("en", "lesson.explorer.overflowed", largest=120.0) == at.error[0].value
    # The stable softmax gives Dress all of it: a loss of exactly 0, shown without a minus sign.
    at.selectbox(key="softmax_explorer_truth").set_value(3).run()
    assert at.metric[0].value == "0.0000"


def test_chinese_explorer_reads_from_the_chinese_catalog():
    at = explorer("zh")
    assert at.subheader[0].value == i18n.text("zh", "lesson.explorer.title")
    assert at.slider(key="softmax_explorer_scale").label == "把 logits 放大"
    assert untranslated(at, names=tuple(CLASSES)) == []  # the class names are the caller's

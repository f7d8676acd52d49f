"""app_pages/home.py under AppTest: it renders with its formulas and the overflow demo."""
from tests.app_pages.conftest import assert_clean, open_page, texts


def test_home_renders_with_formulas_and_the_overflow_demo():
    at = open_page()
    assert at.title[0].value == "Softmax Studio"
    assert len(at.latex) >= 3
    at.toggle(key="overflow_demo").set_value(True).run()
    assert_clean(at)
    assert "both agree" in texts(at)
    at.slider[0].set_value(50).run()
    assert "NaN" in texts(at)

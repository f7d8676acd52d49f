"""app_pages/dataset.py under AppTest: its widgets and charts, filters, jumps and the split switch."""
import json

from tests.app_pages.conftest import assert_clean, open_page, texts
from tests.ui.test_chart import numbers


def test_dataset_page_renders_its_widgets_and_charts(dataset_available):
    at = open_page("dataset")
    assert at.title[0].value == "Dataset"
    assert at.segmented_control(key="ds_split").value == "train"
    assert at.multiselect(key="ds_classes").value == []
    assert at.number_input(key="ds_index").value is None
    assert at.button[0].label == "New random sample"
    charts = [json.loads(json.loads(chart.proto.json)["figure"]) for chart in at.get("bidi_component")]
    # class counts (train, test), the histogram, the PCA (ten classes, 1,000 images in all, as its caption says)
    assert [[trace["type"] for trace in chart["data"]] for chart in charts] == [["bar"] * 2, ["bar"], ["scatter"] * 10]
    assert sum(len(numbers(trace["x"])) for trace in charts[2]["data"]) == 1000
    assert "\n1,000 random training images projected" in texts(at)
    assert "32 of 60,000 train images (a random sample)" in texts(at)


def test_dataset_filters_jumps_and_switches_split(dataset_available):
    at = open_page("dataset")
    at.multiselect(key="ds_classes").set_value([1]).run()
    assert "of 6,000 train images" in texts(at)
    at.number_input(key="ds_index").set_value(100).run()
    assert "from index 100 on" in texts(at)
    at.segmented_control(key="ds_split").set_value("test").run()
    assert_clean(at)
    assert "of 1,000 test images" in texts(at)
    at.button[0].click().run()  # a fresh random sample clears the index
    assert at.number_input(key="ds_index").value is None
    assert "(a random sample)" in texts(at)

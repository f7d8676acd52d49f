"""app_pages/dataset.py under AppTest: its widgets and charts, filters, jumps and the split switch."""
from tests.app_pages.conftest import assert_clean, open_page, texts


def test_dataset_page_renders_its_widgets_and_charts(dataset_available):
    at = open_page("dataset")
    assert at.title[0].value == "Dataset"
    assert at.segmented_control(key="ds_split").value == "train"
    assert at.multiselect(key="ds_classes").value == []
    assert at.number_input(key="ds_index").value is None
    assert at.button[0].label == "New random sample"
    assert len(at.get("plotly_chart")) == 3  # class counts, histogram, PCA
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

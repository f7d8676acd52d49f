from model.files.classes import CLASSES, CLASSES_ZH, a_or_an


def test_ten_classes_in_label_order_with_chinese_names():
    assert len(CLASSES) == len(CLASSES_ZH) == 10
    assert CLASSES[0] == "T-shirt/top" and CLASSES[9] == "Ankle boot"


def test_captions_use_the_right_article():
    assert a_or_an("Ankle boot") == "an Ankle boot"
    assert a_or_an("Coat") == "a Coat"
    assert a_or_an("T-shirt/top") == "a T-shirt/top"

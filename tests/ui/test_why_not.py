"""ui.why_not: the section draws the pixel votes that, with the bias difference, add up to the
logit difference its caption states."""
import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from model import CLASSES, CLASSES_ZH
from model.files import checkpoint
from tests.app_pages.conftest import untranslated
from ui import i18n


def app(classifier, image, predicted, other):
    from ui.why_not import why_not_section

    why_not_section(classifier, image, predicted, other)


def drawn_map(at: AppTest) -> np.ndarray:
    """The heatmap's values as the browser gets them: plotly sends an array as base64 bytes."""
    z = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["z"]
    shape = [int(n) for n in str(z["shape"]).split(",")]
    return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape).astype(np.float64)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_map_and_the_caption_add_up_to_the_logit_difference(test_split, lang):
    images, labels = test_split
    best = checkpoint.load(checkpoint.PRETRAINED.with_name("best.safetensors"))
    predictions = best.predict(images[:500])
    index = int(np.flatnonzero(predictions != labels[:500])[0])
    image, predicted, truth = images[index], int(predictions[index]), int(labels[index])

    at = AppTest.from_function(app, args=(best, image, predicted, truth), default_timeout=30)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    votes = drawn_map(at)
    names = CLASSES_ZH if lang == "zh" else CLASSES
    assert at.subheader[0].value == i18n.text(lang, "lesson.why_not.title", chosen=names[predicted], other=names[truth])
    logits = best.logits(image[None])[0]
    bias = float(best.bias[predicted]) - float(best.bias[truth])
    assert votes.shape == (28, 28)
    assert votes.sum() + bias == pytest.approx(logits[predicted] - logits[truth], abs=1e-4)
    assert at.caption[0].value == i18n.text(lang, "lesson.why_not.numbers", chosen=names[predicted], other=names[truth],
                                             difference=logits[predicted] - logits[truth], pixels=votes.sum(), bias=bias)
    if lang == "zh":
        assert untranslated(at) == []

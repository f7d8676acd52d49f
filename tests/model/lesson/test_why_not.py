"""model.lesson.why_not: the pixel votes of two classes add up to their logit difference."""
import numpy as np
import pytest

from model.files import checkpoint
from model.lesson.why_not import why_not


@pytest.fixture(scope="module")
def best():
    return checkpoint.load(checkpoint.PRETRAINED.with_name("best.safetensors"))


def test_the_map_plus_the_bias_difference_is_the_logit_difference(best, test_split):
    images, labels = test_split
    predictions = best.predict(images[:500])
    wrong = np.flatnonzero(predictions != labels[:500])
    assert len(wrong) > 0
    for index in wrong[:5]:
        image, chosen, truth = images[index], int(predictions[index]), int(labels[index])
        answer = why_not(best, image, chosen, truth)
        logits = best.logits(image[None])[0]
        assert answer.pixel_votes.shape == (28, 28)
        assert answer.logit_difference == pytest.approx(logits[chosen] - logits[truth], abs=1e-9)
        assert answer.pixel_votes.sum() + answer.bias_difference == pytest.approx(answer.logit_difference, abs=1e-6)
        assert answer.logit_difference > 0  # the model chose `chosen`, so its logit is the larger
        assert np.allclose(answer.pixel_votes, best.contributions(image, chosen) - best.contributions(image, truth),
                           atol=1e-5)

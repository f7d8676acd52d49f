"""model.lesson.analysis against independent references: numpy's SVD for the PCA, a 2-D histogram for
the confusion matrix, the classifier's own argmax for the accuracy, all on the real test set."""
import numpy as np
import pytest

from model.lesson import analysis

from model.files import checkpoint


@pytest.fixture(scope="module")
def real(test_data):
    return test_data[0].numpy(), test_data[1].numpy()


def test_evaluation_of_the_shipped_model_agrees_with_plain_counting(real):
    images, labels = real
    model = checkpoint.load()
    ev = analysis.evaluate(model, images, labels)
    predicted = model.predict(images)
    reference = np.histogram2d(labels, predicted, bins=10, range=[[0, 10], [0, 10]])[0].astype(int)
    assert np.array_equal(ev.matrix, reference) and np.array_equal(ev.predicted, predicted)
    assert ev.accuracy == pytest.approx((predicted == labels).mean())
    for k in range(10):
        assert ev.per_class[k] == pytest.approx((predicted[labels == k] == k).mean())
    t, p, times = ev.most_confused()
    assert t != p and times == max(reference[i, j] for i in range(10) for j in range(10) if i != j)
    worst = ev.worst_mistakes(12)
    assert len(worst) == 12 and all(predicted[i] != labels[i] for i in worst)
    assert list(ev.confidence[worst]) == sorted(ev.confidence[worst], reverse=True)
    assert ev.confidence[worst[0]] == pytest.approx(ev.confidence[predicted != labels].max())


def test_pca_finds_the_same_top_directions_as_a_full_svd(real):
    images, _ = real
    xy, index, ratio = analysis.pca_2d(images, n=2000, seed=0)
    x = images[index].reshape(2000, -1).astype(np.float64) / 255.0
    x -= x.mean(axis=0)
    _, singular, vt = np.linalg.svd(x, full_matrices=False)
    reference = x @ vt[:2].T
    for k in range(2):  # each direction up to its sign
        assert abs(np.corrcoef(xy[:, k], reference[:, k])[0, 1]) > 0.999
    assert ratio == pytest.approx(singular[:2] ** 2 / (singular ** 2).sum(), rel=1e-3)


def test_class_means_and_histogram_count_what_they_say(real):
    images, labels = real
    means = analysis.class_means(images, labels)
    assert means.shape == (10, 28, 28) and np.allclose(means[3], images[labels == 3].mean(axis=0))
    histogram = analysis.pixel_histogram(images)
    assert histogram.sum() == images.size and np.array_equal(histogram, np.bincount(images.ravel(), minlength=256))

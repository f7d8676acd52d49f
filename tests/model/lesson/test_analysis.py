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


def test_evaluating_many_models_at_once_gives_each_what_it_gets_alone(real):
    """A fused group's models are scored in one product per chunk; each must get the numbers of
    its own evaluation, also beside a model that normalises its inputs another way."""
    from model.lesson.classifier import LinearClassifier

    images, labels = real
    shipped = checkpoint.load()
    rng = np.random.default_rng(1)
    others = [LinearClassifier(shipped.weight + rng.normal(0, 0.02, shipped.weight.shape).astype(np.float32),
                               shipped.bias, mean=mean, std=std) for mean, std in ((0.0, 1.0), (0.29, 0.35), (0.0, 1.0))]
    # Equal models (evaluated once) and the same weights normalising another way (not equal).
    same = [LinearClassifier(others[0].weight.copy(), others[0].bias.copy(), mean=0.0, std=1.0),
            LinearClassifier(others[0].weight.copy(), others[0].bias.copy(), mean=0.29, std=0.35)]
    models = [shipped, *others, *same]
    together = analysis.evaluate_many(models, images, labels)
    assert together[4] is together[1] and not np.array_equal(together[5].predicted, together[1].predicted)
    assert len(together) == len(models)
    for model, ev in zip(models, together):
        alone = analysis.evaluate(model, images, labels)
        assert np.array_equal(ev.predicted, model.predict(images))
        assert np.array_equal(ev.matrix, alone.matrix) and np.allclose(ev.confidence, alone.confidence, rtol=1e-12)
    assert len({ev.accuracy for ev in together}) > 1  # the models differ, so a mix-up would show


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

"""model.lesson.teach: one SGD step on one picture, against torch autograd, on the shipped model
and real test images."""
import numpy as np
import pytest
import torch

from model.files import checkpoint
from model.lesson.teach import sgd_step_on_one


@pytest.fixture(scope="module")
def best():
    return checkpoint.load(checkpoint.PRETRAINED.with_name("best.safetensors"))


def autograd_gradients(classifier, image, label):
    x = torch.tensor(classifier.inputs(image[None]), dtype=torch.float64)
    weight = torch.tensor(classifier.weight, dtype=torch.float64, requires_grad=True)
    bias = torch.tensor(classifier.bias, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(x @ weight.T + bias, torch.tensor([label])).backward()
    return weight.grad.numpy(), bias.grad.numpy()


@pytest.mark.parametrize("index", [0, 1, 12])
def test_the_gradient_is_autograds_and_the_true_class_gains(best, test_split, index):
    images, labels = test_split
    image = images[index]
    label = (int(labels[index]) + 1) % 10  # a class the model does not pick: a real step to take
    step = sgd_step_on_one(best, image, label, lr=0.1)
    weight_grad, bias_grad = autograd_gradients(best, image, label)
    assert step.weight_gradient.shape == (10, 28, 28)
    assert np.abs(step.weight_gradient.reshape(10, 784) - weight_grad).max() < 1e-5
    assert np.abs(step.bias_gradient - bias_grad).max() < 1e-5
    assert step.label == label and step.after[label] > step.before[label]
    assert np.allclose(step.before, best.predict_proba(image[None])[0])
    assert np.allclose(step.after, step.classifier.predict_proba(image[None])[0])


def test_the_step_is_w_minus_lr_times_the_gradient_and_leaves_the_model_given_alone(best, test_split):
    images, labels = test_split
    weight_before = best.weight.copy()
    step = sgd_step_on_one(best, images[3], int(labels[3]), lr=0.5)
    assert np.array_equal(best.weight, weight_before)
    assert np.allclose(step.classifier.weight, best.weight - 0.5 * step.weight_gradient.reshape(10, 784), atol=1e-6)
    assert np.allclose(step.classifier.bias, best.bias - 0.5 * step.bias_gradient, atol=1e-6)
    assert step.classifier.weight.dtype == np.float32
    assert (step.classifier.mean, step.classifier.std) == (best.mean, best.std)
    with pytest.raises(ValueError):
        sgd_step_on_one(best, images[3], 10, lr=0.5)

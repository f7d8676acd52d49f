import pytest
import torch
import torch.nn.functional as F

from model.lesson.scratch import (Accumulator, HandOptimizer, ScratchSoftmaxRegression, accuracy, cross_entropy,
                           cross_entropy_from_logits, evaluate_accuracy, log_softmax, softmax, softmax_naive)


@pytest.fixture
def logits():
    return torch.randn(64, 10, generator=torch.Generator().manual_seed(0)) * 3


def test_softmax_matches_torch(logits):
    assert torch.allclose(softmax(logits), F.softmax(logits, dim=1), atol=1e-6)
    assert torch.allclose(softmax_naive(logits), F.softmax(logits, dim=1), atol=1e-6)
    assert torch.allclose(log_softmax(logits), F.log_softmax(logits, dim=1), atol=1e-5)


def test_naive_softmax_overflows_where_the_stable_one_does_not():
    big = torch.tensor([[100.0, 0.0, -5.0]])  # exp(100) is beyond float32's range
    assert torch.isnan(softmax_naive(big)).any()
    assert torch.allclose(softmax(big), F.softmax(big, dim=1))


def test_cross_entropy_matches_torch(logits):
    y = torch.randint(0, 10, (64,), generator=torch.Generator().manual_seed(1))
    expected = F.cross_entropy(logits, y, reduction="none")
    assert torch.allclose(cross_entropy(softmax_naive(logits), y), expected, atol=1e-5)
    assert torch.allclose(cross_entropy_from_logits(logits, y), expected, atol=1e-5)
    # At a large margin the lesson's loss gives -log(0) = inf; the log-sum-exp one stays exact.
    far = torch.tensor([[0.0, 200.0]])
    assert torch.isinf(cross_entropy(softmax_naive(far), torch.tensor([0]))).all()
    assert cross_entropy_from_logits(far, torch.tensor([0])).item() == pytest.approx(200.0)


def test_accuracy_counts_correct_predictions():
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.5, 0.2, 0.3], [0.2, 0.7, 0.1]])
    assert accuracy(y_hat, torch.tensor([2, 1, 1])) == 2.0
    assert accuracy(torch.tensor([0, 1]), torch.tensor([0, 0])) == 1.0


def test_accumulator_adds_and_resets():
    metric = Accumulator(2)
    metric.add(3, 10)
    metric.add(2.5, 5)
    assert (metric[0], metric[1]) == (5.5, 15.0)
    metric.reset()
    assert metric.data == [0.0, 0.0]


def test_evaluate_accuracy_over_batches():
    net = ScratchSoftmaxRegression(torch.eye(10, 784), torch.zeros(10))
    X = torch.zeros(4, 784)
    X[0, 3] = X[1, 7] = X[2, 1] = X[3, 0] = 1.0  # input k lights the pixel that class k's row weighs
    y = torch.tensor([3, 7, 2, 0])
    assert evaluate_accuracy(net, [(X[:2], y[:2]), (X[2:], y[2:])]) == 0.75


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_hand_written_optimizers_match_torch_optim(kind, weight_decay):
    from model.lesson.concise import make_optimizer

    g = torch.Generator().manual_seed(2)
    X, y = torch.randn(32, 784, generator=g), torch.randint(0, 10, (32,), generator=g)
    w0, b0 = torch.randn(10, 784, generator=g) * 0.01, torch.zeros(10)
    lr = 0.01 if kind == "adam" else 0.1

    ours = ScratchSoftmaxRegression(w0, b0)
    hand = HandOptimizer(ours.parameters(), kind, lr, weight_decay)
    linear = torch.nn.Linear(784, 10)
    with torch.no_grad():
        linear.weight.copy_(w0)
        linear.bias.copy_(b0)
    reference = make_optimizer(linear.parameters(), kind, lr, weight_decay)
    for _ in range(5):
        cross_entropy_from_logits(ours(X), y).sum().backward()
        hand.step(len(y))
        reference.zero_grad()
        F.cross_entropy(linear(X), y).backward()
        reference.step()
    weight, bias = ours.weight_bias()
    assert torch.allclose(weight, linear.weight, atol=1e-6)
    assert torch.allclose(bias, linear.bias, atol=1e-6)
    assert not torch.allclose(weight, w0)  # it did move

"""The lesson's pipeline against ours, side by side, on the same machine and data.

The lesson: torchvision FashionMNIST + ToTensor, DataLoader(batch 256, shuffle, 4 workers),
nn.Sequential(Flatten, Linear), SGD lr 0.1, trained by d2l's train_ch3 (per-batch loss and
accuracy sums, a test evaluation through the DataLoader after each epoch). Ours: the `lesson`
preset of model.lesson.train, which reports the same metrics. Last, the recipe's own steps with
nothing else, which bounds what any loop keeping torch.nn + torch.optim can reach.

    python -m bench.lesson_speed              # 10 epochs each (~2 minutes on 2 cores)
    python -m bench.lesson_speed --epochs 2   # quicker; the ratio per epoch is what matters
"""
import argparse
import gzip
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from model.files.data import FILES, locate, load_split
from model.lesson.config import preset
from model.lesson.scratch import Accumulator, accuracy, evaluate_accuracy
from model.lesson.train import train


# d2l's train_epoch_ch3 and train_ch3 (d2l/torch.py, v1.0.3), verbatim but for the Animator: it
# draws an SVG into a Jupyter notebook after each epoch, which a script can't show; a print stands
# in for it. Their helpers (Accumulator, accuracy, evaluate_accuracy) are the lesson's code that
# model/lesson/scratch.py already holds. `pip install d2l` would pin old torch and numpy, so nothing is
# imported from it.
def train_epoch_ch3(net, train_iter, loss, updater):
    """The training loop defined in Chapter 3."""
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater, started):
    """Train a model (defined in Chapter 3)."""
    for epoch in range(num_epochs):
        train_metrics = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        print(f"  lesson epoch {epoch + 1}: train loss {train_metrics[0]:.3f}, test acc {test_acc:.4f} "
              f"({time.perf_counter() - started:.1f} s so far)", flush=True)
    return test_acc


def lesson_pipeline(root: Path, epochs: int) -> tuple[float, float]:
    """The lesson's cells, in order. Returns (seconds, final test accuracy)."""
    import torchvision
    from torch.utils import data
    from torchvision import transforms

    trans = transforms.ToTensor()
    mnist_train = torchvision.datasets.FashionMNIST(root=str(root), train=True, transform=trans, download=False)
    mnist_test = torchvision.datasets.FashionMNIST(root=str(root), train=False, transform=trans, download=False)
    train_iter = data.DataLoader(mnist_train, 256, shuffle=True, num_workers=4)
    test_iter = data.DataLoader(mnist_test, 256, shuffle=False, num_workers=4)

    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

    def init_weights(m):
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, std=0.01)
    net.apply(init_weights)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=0.1)
    started = time.perf_counter()
    test_acc = train_ch3(net, train_iter, test_iter, loss, epochs, trainer, started)
    return time.perf_counter() - started, test_acc


def recipe_alone(images: torch.Tensor, labels: torch.Tensor, epochs: int) -> float:
    """Seconds for only the lesson recipe's own work: per batch a gather, pixels/255, the
    concise net's forward, loss, backward and SGD step. No metrics, no test evaluation:
    the floor any loop that keeps the recipe (torch.nn + torch.optim) can reach here."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    loss, trainer = nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=0.1)
    flat = images.reshape(len(images), -1)
    started = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), 256):
            index = order[start:start + 256]
            batch_loss = loss(net(flat.index_select(0, index).float().mul_(1 / 255)), labels.index_select(0, index))
            trainer.zero_grad()
            batch_loss.backward()
            trainer.step()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "FashionMNIST" / "raw"  # torchvision's layout, from the same files
        raw.mkdir(parents=True)
        for split in ("train", "test"):
            for path, name in zip(locate(split), FILES[split]):
                opener = gzip.open if path.suffix == ".gz" else open
                with opener(path, "rb") as f:
                    (raw / name).write_bytes(f.read())
        lesson_seconds, lesson_acc = lesson_pipeline(Path(tmp), args.epochs)

    train_data, test_data = load_split("train"), load_split("test")
    train(preset("lesson", epochs=1), *train_data, *test_data)  # warm-up: first-call costs aren't per-epoch
    recipe_alone(*train_data, 1)  # warm-up, as above
    # Ours and the recipe take turns, best of 3 each: a slow moment of the machine hits both alike.
    ours_runs, recipe_runs = [], []
    for _ in range(3):
        started = time.perf_counter()
        result = train(preset("lesson", epochs=args.epochs), *train_data, *test_data)
        ours_runs.append(time.perf_counter() - started)
        recipe_runs.append(recipe_alone(*train_data, args.epochs))
    ours_seconds, ours_acc, floor = min(ours_runs), result.history[-1]["test_acc"], min(recipe_runs)

    print(f"\nlesson pipeline: {args.epochs} epochs in {lesson_seconds:7.2f} s "
          f"({lesson_seconds / args.epochs:.2f} s/epoch), test acc {lesson_acc:.4f}")
    print(f"ours (lesson preset; best of 3): {args.epochs} epochs in {ours_seconds:7.2f} s "
          f"({ours_seconds / args.epochs:.3f} s/epoch), test acc {ours_acc:.4f}")
    print(f"the recipe alone (no metrics, no evaluation; best of 3): {floor:.2f} s, so no loop that keeps "
          f"torch.nn + torch.optim can beat {lesson_seconds / floor:.1f}x here")
    print(f"ours against the recipe alone: {ours_seconds / floor:.2f}x its time (target <= 1.3x); "
          f"speed-up over the lesson's pipeline: {lesson_seconds / ours_seconds:.1f}x; "
          f"accuracy: {'same' if ours_acc >= 0.82 and lesson_acc >= 0.82 else 'BELOW 0.82'} "
          f"(ours {ours_acc:.4f}, lesson {lesson_acc:.4f})")


if __name__ == "__main__":
    main()

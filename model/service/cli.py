"""python -m model {data,train,evaluate,predict}: the engine from a terminal.

Errors a user can cause (missing data, a bad checkpoint, a bad argument) print one line
and exit non-zero; they never print a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys

from model.files.classes import CLASSES


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (exit code 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def thread_count(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def setting(name: str, kind: type):
    """An argparse type for TrainConfig's `name`, checked by model.lesson.config's rule for it."""
    def parse(text):
        from model.lesson.config import problem

        value = kind(text)
        reason = problem(name, value)
        if reason:
            raise argparse.ArgumentTypeError(f"{reason}, got {text}")
        return value
    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value"
    return parse


def cmd_data(args):
    from model.files.data import describe_source, download, load_split_numpy

    if args.download:
        from tqdm import tqdm

        bars = {}

        def progress(name, done, total):
            bar = bars.get(name) or bars.setdefault(name, tqdm(total=total or None, unit="B", unit_scale=True, desc=name))
            bar.update(done - bar.n)

        download(args.root, progress)
        for bar in bars.values():
            bar.close()
    info = describe_source(args.root)
    for split in ("train", "test"):
        print(f"{split}: {info[split]['count']} images from {info[split]['images']}")
    for split in ("train", "test"):
        load_split_numpy(split, args.root)  # parses, checks and caches
    print(f"checked: contents match the official Fashion-MNIST (checksum {info['checksum']})")
    return 0


def cmd_train(args):
    import torch
    from tqdm import tqdm

    from model.files import checkpoint
    from model.files.data import load_split
    from model.lesson.config import preset
    from model.service.settings import threads_per_training
    from model.lesson.train import train

    config = preset(args.preset, impl=args.impl, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                    weight_decay=args.weight_decay, optimizer=args.optimizer, seed=args.seed)
    # torch's default, a thread per core, stalls for seconds whenever another process holds a
    # core (its threads wait for each other at every product); one core fewer does not.
    torch.set_num_threads(args.threads or threads_per_training(1))
    train_data, test_data = load_split("train"), load_split("test")
    bar = tqdm(total=100, unit="%", disable=args.json or not sys.stderr.isatty(), bar_format="{l_bar}{bar}| {postfix}")

    def on_progress(p):
        bar.update(round(p.fraction * 100) - bar.n)
        bar.set_postfix_str(f"epoch {p.epoch} loss {p.train_loss:.3f} acc {p.train_acc:.3f}")

    def on_epoch(m):
        if args.json:
            print(json.dumps(m), flush=True)
        else:
            bar.write(f"epoch {m['epoch']:3d}  loss {m['train_loss']:.4f}  train acc {m['train_acc']:.4f}  "
                      f"test acc {m['test_acc']:.4f}  ({m['seconds']:.2f} s)")

    result = train(config, *train_data, *test_data, on_epoch=on_epoch, on_progress=on_progress)
    bar.close()
    if result.diverged:
        print(result.diverged, file=sys.stderr)
    path = checkpoint.save(result.classifier(), args.out)
    test_acc = result.test_acc
    if args.json:
        print(json.dumps({"checkpoint": str(path), "test_acc": test_acc}))
    else:
        print(f"saved {path} (test accuracy {test_acc})")
    return 1 if result.diverged else 0


def cmd_evaluate(args):
    from model.files import checkpoint
    from model.lesson.analysis import evaluate
    from model.files.data import load_split_numpy

    classifier = checkpoint.load(args.checkpoint)
    evaluation = evaluate(classifier, *load_split_numpy("test"))
    per_class = {name: float(acc) for name, acc in zip(CLASSES, evaluation.per_class)}
    test_acc = evaluation.accuracy
    if args.json:
        print(json.dumps({"test_acc": test_acc, "per_class": per_class}))
    else:
        print(f"test accuracy {test_acc:.4f}")
        for name, acc in per_class.items():
            print(f"  {name:12s} {acc:.4f}")
    return 0


def cmd_predict(args):
    from model.files import checkpoint
    from model.files.image_files import ImageError
    from model.files.predict import predict_file

    classifier = checkpoint.load(args.checkpoint)
    failed = False
    for name in args.images:
        try:
            prediction = predict_file(classifier, name)
            error = prediction.message if prediction.empty else None
        except ImageError as e:
            error = str(e)
        except Exception as e:  # noqa: BLE001 - a bug must cost one line for one file, never a traceback
            error = " ".join(f"Unexpected failure while reading this image ({type(e).__name__}: {e}).".split())
        failed = failed or error is not None
        if args.json:
            line = {"file": name, "error": error} if error else {
                "file": name, "class": prediction.class_name, "label": prediction.label,
                "probabilities": [float(p) for p in prediction.probabilities]}
            print(json.dumps(line), flush=True)
        else:
            print(f"{name}: error: {error}" if error else f"{name}: {prediction.message}", flush=True)
    return 1 if failed else 0


def build_parser():
    from model.lesson.config import IMPLEMENTATIONS, OPTIMIZERS, PRESETS

    parser = ArgumentParser(prog="python -m model", description="Softmax regression on Fashion-MNIST.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    data = commands.add_parser("data", help="find, check and cache the dataset (or download it)")
    data.add_argument("--root", help="a folder holding the four IDX files")
    data.add_argument("--download", action="store_true", help="download with torchvision's mirrors into data/")
    data.set_defaults(run=cmd_data)

    train = commands.add_parser("train", help="train and save a checkpoint")
    train.add_argument("--preset", choices=sorted(PRESETS), default="lesson")
    train.add_argument("--impl", choices=IMPLEMENTATIONS)
    train.add_argument("--epochs", type=setting("epochs", int))
    train.add_argument("--lr", type=setting("lr", float))
    train.add_argument("--batch-size", type=setting("batch_size", int))
    train.add_argument("--weight-decay", type=setting("weight_decay", float))
    train.add_argument("--optimizer", choices=OPTIMIZERS)
    train.add_argument("--seed", type=int)
    train.add_argument("--threads", type=thread_count,
                       help="torch threads (default: the CPUs this process may use, less one, so a busy core can't stall it)")
    train.add_argument("--out", default="model.safetensors", help="where to save (default: model.safetensors)")
    train.add_argument("--json", action="store_true", help="one JSON object per epoch, then one for the result")
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser("evaluate", help="test accuracy of a checkpoint, overall and per class")
    evaluate.add_argument("--checkpoint", help="a .safetensors file (default: the shipped pretrained model)")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=cmd_evaluate)

    predict = commands.add_parser("predict", help="classify image files (PNG, JPEG, WebP, GIF, BMP), one line each")
    predict.add_argument("--checkpoint", help="a .safetensors file (default: the shipped pretrained model)")
    predict.add_argument("--json", action="store_true", help='one JSON object per image: {"file", "class", '
                         '"label", "probabilities"} or {"file", "error"}')
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.set_defaults(run=cmd_predict)
    return parser


def main(argv=None) -> int:
    from model.files.checkpoint import CheckpointError
    from model.files.data import DatasetError

    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (DatasetError, CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

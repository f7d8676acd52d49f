"""Train the `robust` model shipped as model/pretrained/robust.safetensors, the Predict page's default.

Still one linear layer on the 784 pixels, trained like the `best` preset (Adam, cosine decay,
standardised inputs), but on the training images plus augmented copies that look like what
people bring (model/files/augment.py): mirrored garments (shoes that face right), filled silhouettes
(traced exactly, or drawn with a thin to a thick brush), outline drawings (traced, or simplified
the way people draw them), crops a little off, small tilts, other contrasts.

The mix is chosen on a validation split carved from the training set (the last 10,000 after a
fixed shuffle): each candidate trains on the other 50,000 and is scored on the validation images
as they are, mirrored, as silhouettes, as brushed silhouettes, as outlines and as open outlines.
The winner is the candidate with the best mean over those six whose plain validation accuracy is
at least VAL_FLOOR. Only the winner is retrained on all 60,000 and measured on the test set, once,
next to the `best` model.

    OMP_NUM_THREADS=1 python -m bench.train_robust            # ~5 minutes on one thread
    python -m bench.train_robust --out /tmp/robust.safetensors  # anywhere else
"""
import argparse
import time
from dataclasses import asdict, replace

import numpy as np
import torch

from model.files import augment, checkpoint
from model.files.augment import Mix
from model.lesson.config import PRESETS
from model.files.data import load_split_numpy
from model.lesson.train import train

OUT = checkpoint.PRETRAINED.with_name("robust.safetensors")
SEED = 0               # augmentation and training seed: the same seed, the same checkpoint
SPLIT_SEED = 1234      # the shuffle that picks the 10,000 validation images
VAL_FLOOR = 0.832      # plain validation accuracy a winner needs: 0.82 plus the 1.1 points `best` lost
                       # from validation (0.858) to test (0.847), rounded up
DESCRIPTION = ("Augmented for drawings and photos: one linear layer trained on Fashion-MNIST's training "
               "images plus mirrored, silhouette (traced and brushed), outline (traced and simplified), "
               "shifted, scaled, tilted and re-contrasted copies.")
# The best preset's recipe, with fewer passes over a set 3x the size (it has converged by then).
BASE = replace(PRESETS["best"], epochs=15, lr=0.001, batch_size=256)
# Candidates: how much of each kind to add. Tried on the same split before settling on this grid:
# three copies, 70% shifted/scaled/rotated by up to 2 px, 15% and +-15 degrees lost 2 points on
# plain images for no gain elsewhere; alone, flips cost 2.6 points, outlines 2.2, silhouettes 1.2;
# mirroring only the shoes (the only garments the dataset shows one way) saved nothing; more epochs,
# a smaller lr or batch, or weight decay changed nothing (0.8293-0.8294): the mix is the whole trade.
# More silhouettes (20-35% of the copies) gained up to 2 points on silhouettes but cost 0.3-0.7 on
# plain images and more on outlines; open outlines are what turns a stick-drawn trouser into a Trouser.
# Since silhouettes are drawn with a brush (a thick one closes the gap between trouser legs, as on
# Predict's canvas), more of them pays: on this grid the brushed view rises from 0.73 at 5% to 0.77
# at 20% while plain stays at 0.832-0.837.
CANDIDATES = {  # each with two copies and a little jitter (Mix's defaults)
    "silhouette 5%, outline 15%, open 15%, flip 20%": Mix(silhouette=0.05, outline=0.15, open_outline=0.15, flip=0.2),
    "silhouette 10%, outline 15%, open 15%, flip 20%": Mix(silhouette=0.1, outline=0.15, open_outline=0.15, flip=0.2),
    "silhouette 10%, outline 10%, open 15%, flip 20%": Mix(silhouette=0.1, outline=0.1, open_outline=0.15, flip=0.2),
    "silhouette 15%, outline 10%, open 15%, flip 20%": Mix(silhouette=0.15, outline=0.1, open_outline=0.15, flip=0.2),
    "silhouette 15%, outline 10%, open 10%, flip 20%": Mix(silhouette=0.15, outline=0.1, open_outline=0.1, flip=0.2),
    "silhouette 20%, outline 10%, open 10%, flip 15%": Mix(silhouette=0.2, outline=0.1, open_outline=0.1, flip=0.15),
}


def views(images: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """The ways a set of images is scored: as they are, mirrored, filled in (traced exactly, and drawn
    with a thin to a thick brush, as Predict's canvas and the drawings people upload are), outlined,
    and outlined the simplified way (gaps bridged, no hems)."""
    rng = np.random.default_rng(seed)
    widths, brushes = rng.uniform(*Mix.stroke, len(images)), rng.uniform(*Mix.brush, len(images))
    return {"plain": images, "flipped": augment.flipped(images), "silhouette": augment.silhouettes(images),
            "brushed": augment.silhouettes(images, brushes),
            "outline": augment.outlines(images, widths), "open": augment.open_outlines(images, widths)}


def scores(classifier, sets: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, float]:
    return {name: float((classifier.predict(images) == labels).mean()) for name, images in sets.items()}


def fit(mix: Mix, images, labels, eval_images, eval_labels):
    """Train BASE on `images` plus their augmented copies; each epoch's test_acc is on `eval_images`."""
    x, y = augment.augmented_set(images, labels, mix, seed=SEED)
    as_tensors = (torch.from_numpy(x), torch.from_numpy(y.astype(np.int64)),
                  torch.from_numpy(eval_images), torch.from_numpy(eval_labels.astype(np.int64)))
    return train(replace(BASE, seed=SEED), *as_tensors)


def row(name: str, values: dict[str, float]) -> str:
    return f"{name:<52}" + "".join(f"{v:>11.4f}" for v in values.values()) + f"{np.mean(list(values.values())):>11.4f}"


def header() -> str:
    names = ("plain", "flipped", "silhouette", "brushed", "outline", "open", "mean")
    return f"{'':<52}" + "".join(f"{n:>11}" for n in names)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(OUT), help=f"where to save the checkpoint (default: {OUT})")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the machine is shared)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()

    images, labels = load_split_numpy("train")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(images))
    fit_index, val_index = order[:50_000], order[50_000:]
    val_sets = views(images[val_index], SEED)
    print(f"validation ({len(val_index):,} training images held out)\n{header()}", flush=True)
    results = []
    for name, mix in CANDIDATES.items():
        result = fit(mix, images[fit_index], labels[fit_index], images[val_index], labels[val_index])
        values = scores(result.classifier(), val_sets, labels[val_index])
        results.append((name, mix, values))
        print(row(name, values), flush=True)
    eligible = [r for r in results if r[2]["plain"] >= VAL_FLOOR]
    if eligible:
        name, mix, val_values = max(eligible, key=lambda r: np.mean(list(r[2].values())))
    else:  # none is accurate enough on plain images: the most accurate one
        name, mix, val_values = max(results, key=lambda r: r[2]["plain"])
    print(f"\nwinner: {name} (mean {np.mean(list(val_values.values())):.4f}, plain {val_values['plain']:.4f})")

    test_images, test_labels = load_split_numpy("test")
    result = fit(mix, images, labels, test_images, test_labels)
    robust = result.classifier()
    test_sets = views(test_images, SEED + 1)
    robust_test, best_test = scores(robust, test_sets, test_labels), scores(checkpoint.load(), test_sets, test_labels)
    minutes = (time.perf_counter() - started) / 60
    print(f"\ntest set, once (retrained on all 60,000)\n{header()}\n{row('robust', robust_test)}\n"
          f"{row('best (shipped)', best_test)}\n\n{minutes:.1f} minutes in all")
    path = checkpoint.save(robust, args.out, description=DESCRIPTION, augmentation={"name": name, **asdict(mix)},
                           validation=val_values, test_views=robust_test,
                           chosen_by=f"the best mean validation accuracy over {list(val_values)} with plain >= {VAL_FLOOR}")
    print(f"saved {path}")


if __name__ == "__main__":
    main()

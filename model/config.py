"""Training settings: one dataclass, the presets, and the allowed choices. No torch here,
so the app and the CLI can build and check settings without paying for importing it."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

IMPLEMENTATIONS = ("scratch", "concise")
OPTIMIZERS = ("sgd", "momentum", "adam")
SCHEDULES = ("constant", "cosine")
NORMALIZATIONS = ("scale", "standardize")
# The settings that are a choice among names, and their choices.
CHOICES = {"impl": IMPLEMENTATIONS, "optimizer": OPTIMIZERS, "schedule": SCHEDULES, "normalize": NORMALIZATIONS}


@dataclass
class TrainConfig:
    impl: str = "concise"        # "scratch": the lesson's hand-written version; "concise": torch.nn + torch.optim
    epochs: int = 10             # passes over the training images
    lr: float = 0.1              # learning rate (the lesson's)
    batch_size: int = 256        # minibatch size (the lesson's)
    init_std: float = 0.01       # weights start as N(0, std^2), biases at 0 (the lesson's)
    weight_decay: float = 0.0    # L2 penalty on the parameters; 0 is the lesson
    optimizer: str = "sgd"       # "sgd", "momentum" (0.9) or "adam"
    schedule: str = "constant"   # "constant", or "cosine": decay the lr to 0 over the run
    normalize: str = "scale"     # "scale": pixels/255 (the lesson); "standardize": zero mean, unit variance
    naive_softmax: bool = False  # scratch only: the lesson's exp-then-normalise softmax, which overflows
                                 # (loss inf/NaN) once logits pass ~88; False uses log-sum-exp
    seed: int = 0                # the same seed gives the same numbers

    def validate(self) -> "TrainConfig":
        """Raise ValueError with a plain reason for a setting that can't train."""
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"the learning rate must be a positive number, not {self.lr}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight decay must be 0 or more, not {self.weight_decay}")
        if not (math.isfinite(self.init_std) and self.init_std >= 0):
            raise ValueError(f"the weight-init std must be 0 or more, not {self.init_std}")
        return self

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """A config from a dict (a checkpoint's, a link's), ignoring keys it doesn't know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


PRESETS = {
    # The lesson's recipe exactly: concise net, 10 epochs, lr 0.1, batch 256, plain SGD, pixels/255.
    "lesson": TrainConfig(),
    # The most accurate single linear layer on raw pixels we found: chosen on a validation
    # split carved from the training set (bench/tune_best.py), never on the test set.
    # Regularisers (weight decay, label smoothing, input dropout, shift augmentation, PCA)
    # all lost validation accuracy: one linear layer underfits already.
    "best": TrainConfig(epochs=40, lr=0.0005, batch_size=128, optimizer="adam", schedule="cosine",
                        normalize="standardize"),
}


def fuse_key(config: TrainConfig) -> tuple:
    """Configs with equal keys see the same minibatches in the same order, so they can train
    together in one pass (model.fused). (A zero init_std draws nothing from the generator,
    which shifts the data order; the naive softmax is the from-scratch trainer's alone.)"""
    return config.seed, config.batch_size, config.epochs, config.normalize, config.init_std == 0, config.naive_softmax


def preset(name: str, **overrides) -> TrainConfig:
    """A preset's config with some settings changed (None values are ignored)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return replace(PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})

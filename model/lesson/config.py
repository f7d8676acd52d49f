"""Training settings: one dataclass, the presets, and the allowed choices. No torch here,
so the app and the CLI can build and check settings without paying for importing it."""
from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields, replace

from model.message import Message

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
        for name in (*CHOICES, *RULES):
            reason = problem(name, getattr(self, name))
            if reason:
                raise ValueError(Message("config.invalid", "{name} {reason}, not {value!r}", name=NAMES.get(name, name),
                                         reason=reason, value=getattr(self, name)))
        return self

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """A config from a dict (a checkpoint's, a link's), ignoring keys it doesn't know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# What a setting that can train must be: the one home of these rules, for validate(), the CLI's
# arguments and whoever else checks a setting. (How far a server lets a link go is model.service.settings.Limits.)
RULES = {
    "epochs": (Message("config.at_least_1", "must be at least 1"), lambda v: v >= 1),
    "batch_size": (Message("config.at_least_1", "must be at least 1"), lambda v: v >= 1),
    "lr": (Message("config.positive", "must be a positive number"), lambda v: math.isfinite(v) and v > 0),
    "weight_decay": (Message("config.not_negative", "must be 0 or more"), lambda v: math.isfinite(v) and v >= 0),
    "init_std": (Message("config.not_negative", "must be 0 or more"), lambda v: math.isfinite(v) and v >= 0),
}
NAMES = {"epochs": Message("config.name_epochs", "epochs"),
         "batch_size": Message("config.name_batch_size", "the batch size"),
         "lr": Message("config.name_lr", "the learning rate"),
         "weight_decay": Message("config.name_weight_decay", "weight decay"),
         "init_std": Message("config.name_init_std", "the weight-init std")}


def problem(name: str, value) -> str | None:
    """Why `value` can't be setting `name`, or None if it can."""
    if name in CHOICES:
        return None if value in CHOICES[name] else Message("config.one_of", "must be one of {choices}",
                                                           choices=", ".join(CHOICES[name]))
    reason, ok = RULES[name]
    return None if ok(value) else reason


PRESETS = {
    # The lesson's recipe exactly: concise net, 10 epochs, lr 0.1, batch 256, plain SGD, pixels/255.
    "lesson": TrainConfig(),
    # The most accurate single linear layer on raw pixels we found: chosen on a validation
    # split carved from the training set (bench/tune_best.py), never on the test set.
    # Regularisers (weight decay, label smoothing, input dropout, shift augmentation, PCA)
    # all lost validation accuracy: one linear layer underfits already. Six epochs at a larger
    # batch and learning rate match the 40 of batch 128 on validation; the scratch trainer
    # gives the concise one's numbers without torch.optim's 1.2-1.5 s import of torch._dynamo.
    "best": TrainConfig(impl="scratch", epochs=6, lr=0.012, batch_size=512, optimizer="adam", schedule="cosine",
                        normalize="standardize"),
}


def fuse_key(config: TrainConfig) -> tuple | None:
    """Configs with equal keys see the same minibatches in the same order, so they can train
    together in one pass (model.lesson.fused). (A zero init_std draws nothing from the generator,
    which shifts the data order.) None: it trains alone. The naive softmax is the from-scratch
    trainer's own, so a sweep of it trains its values one after another and still overflows
    where the lesson says it does."""
    if config.naive_softmax:
        return None
    return config.seed, config.batch_size, config.epochs, config.normalize, config.init_std == 0


def numbers_key(config: TrainConfig) -> tuple:
    """Configs with equal keys get equal numbers trained together (model.lesson.fused: the
    implementation, scratch or concise, is one arithmetic there), so they train once."""
    return astuple(replace(config, impl=""))


def preset(name: str, **overrides) -> TrainConfig:
    """A preset's config with some settings changed (None values are ignored)."""
    if name not in PRESETS:
        raise ValueError(Message("config.unknown_preset", "unknown preset {name!r}; choose one of {presets}",
                                 name=name, presets=", ".join(PRESETS)))
    return replace(PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})

"""Server settings: hosted or local, how many trainings at once, where runs go, and the
hyperparameter limits; plus a TrainConfig <-> query-parameter codec for shareable links.

Everything here is read from environment variables once, so a deployment is configured
without editing code (on Streamlit Community Cloud, root-level secrets become env vars).
Nothing here imports torch or streamlit.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

from model.lesson.config import CHOICES, PRESETS, TrainConfig
from model.message import Message, reason

PROJECT_DIR = Path(__file__).resolve().parents[2]
MAX_SEED = 2**31 - 1  # what every RNG we seed accepts; a link can't ask for more

# The words a learner sees for each TrainConfig field in a note.
LABELS = {
    "impl": Message("settings.label_impl", "implementation"), "epochs": Message("settings.label_epochs", "epochs"),
    "lr": Message("settings.label_lr", "learning rate"), "batch_size": Message("settings.label_batch_size", "batch size"),
    "init_std": Message("settings.label_init_std", "weight-init std"),
    "weight_decay": Message("settings.label_weight_decay", "weight decay"),
    "optimizer": Message("settings.label_optimizer", "optimizer"),
    "schedule": Message("settings.label_schedule", "learning-rate schedule"),
    "normalize": Message("settings.label_normalize", "normalization"),
    "naive_softmax": Message("settings.label_naive_softmax", "naive softmax"), "seed": Message("settings.label_seed", "seed"),
}
KINDS = {f.name: type(f.default) for f in fields(TrainConfig)}  # what each query parameter parses to
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Limits:
    """Bounds on what one training may ask for. The defaults are safe for a public server:
    the worst allowed run (50 epochs at batch 8 with Adam) takes 2-3 minutes of one core, and no
    minibatch needs more than a few MB."""
    max_epochs: int = 50             # 50 epochs is far past where softmax regression stops improving
    min_batch_size: int = 8          # an epoch is 60000/batch steps; batch 8 is ~1 s/epoch, batch 1 ~30 s
    max_batch_size: int = 1024       # a float minibatch is batch x 3 KB; full-batch (60000) would be 190 MB
    min_lr: float = 1e-6             # below this nothing visibly changes in 50 epochs
    max_lr: float = 10.0             # high enough to watch the naive softmax overflow (it does from ~1)
    max_weight_decay: float = 1.0    # enough to show over-regularised, washed-out templates
    max_init_std: float = 1.0        # enough to show a badly scaled start; training cost doesn't depend on it

    def __post_init__(self):
        if not 1 <= self.max_epochs:
            raise ValueError(f"max_epochs must be at least 1, not {self.max_epochs}")
        if not 1 <= self.min_batch_size <= self.max_batch_size:
            raise ValueError(f"batch-size limits must satisfy 1 <= min ({self.min_batch_size}) "
                             f"<= max ({self.max_batch_size})")
        if not 0 < self.min_lr <= self.max_lr < math.inf:
            raise ValueError(f"learning-rate limits must satisfy 0 < min ({self.min_lr}) <= max ({self.max_lr})")
        if not (0 <= self.max_weight_decay < math.inf and 0 <= self.max_init_std < math.inf):
            raise ValueError("max_weight_decay and max_init_std must be finite and 0 or more")

    def clamp(self, config: TrainConfig) -> tuple[TrainConfig, list[str]]:
        """`config` with every numeric setting moved into these limits, and one note per change.
        A value that isn't a finite number becomes the default (TrainConfig's)."""
        default = TrainConfig()
        bounds = {"epochs": (1, self.max_epochs), "batch_size": (self.min_batch_size, self.max_batch_size),
                  "lr": (self.min_lr, self.max_lr), "weight_decay": (0.0, self.max_weight_decay),
                  "init_std": (0.0, self.max_init_std), "seed": (0, MAX_SEED)}
        changes, notes = {}, []
        for name, (low, high) in bounds.items():
            value, label = getattr(config, name), LABELS[name]
            if isinstance(value, float) and not math.isfinite(value):
                changes[name] = getattr(default, name)
                notes.append(Message("settings.not_a_number", "{label} {value} is not a number; using {using}",
                                     label=label, value=value, using=_show(changes[name])))
            elif value > high:
                changes[name] = high
                notes.append(Message("settings.above_limit", "{label} {value} is above this server's limit of {limit}; "
                                     "using {limit}", label=label, value=_show(value), limit=_show(high)))
            elif value < low:
                changes[name] = low
                notes.append(Message("settings.below_minimum", "{label} {value} is below this server's minimum of "
                                     "{limit}; using {limit}", label=label, value=_show(value), limit=_show(low)))
        return replace(config, **changes), notes


def _show(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def available_cpus(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """CPUs this process may really use. os.cpu_count() reports the host's cores, which in a
    container limited to 2 CPUs would start 32 trainings at once; so take the affinity mask
    and cap it by the container's CPU quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        cpus = os.cpu_count() or 1
    quota = _cgroup_cpu_quota(cgroup)
    return max(1, min(cpus, quota) if quota else cpus)


def _cgroup_cpu_quota(cgroup: Path) -> int | None:
    """The cgroup's CPU quota in whole CPUs (at least 1), or None when there is none."""
    try:  # cgroup v2: "max 100000" (no quota) or "200000 100000" (2 CPUs)
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:  # cgroup v1: quota -1 means none
            quota = (cgroup / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (cgroup / "cpu" / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    try:
        return max(1, int(quota) // int(period)) if int(quota) > 0 else None
    except (ValueError, ZeroDivisionError):  # "max", or a file we don't understand
        return None


def training_cpus() -> int:
    """CPUs for training: all but one, which stays free so pages and predictions answer
    quickly while others train (on 2 cores: one training at a time)."""
    return max(1, available_cpus() - 1)


HOSTED_ABANDON_SECONDS = 6.0  # the page polls every 0.5 s (1 s in a background tab): 6 s of silence is a closed tab


@dataclass(frozen=True)
class Settings:
    hosted: bool = False             # a shared public server: runs live in each browser session, never on disk
    # One per CPU, more wait in a queue: the app trains in child processes at a lower priority
    # (model.service.workers), so pages and predictions still answer first.
    max_concurrent_trainings: int = field(default_factory=lambda: available_cpus())
    # One child process each trains fastest; 2 or more share a process's torch and dataset
    # (~550 MB each saved) at ~1.4x the time, their threads taking turns at its GIL.
    trainings_per_process: int = 1
    max_waiting: int = 40            # trainings that may wait in line at once (a class of 30 fits); more are refused
    abandon_seconds: float | None = None  # a training whose page is silent this long is stopped (None: never)
    max_fused: int = 8               # waiting trainings with the same data order start together, of this many
                                     # distinct settings at most (equal ones train once)
    runs_dir: Path = PROJECT_DIR / "runs"  # local mode saves every finished run here
    limits: Limits = Limits()        # hyperparameter bounds, applied to every training and link

    def torch_threads(self) -> int:
        return threads_per_training(self.max_concurrent_trainings)


def threads_per_training(concurrent: int) -> int:
    """Threads each of `concurrent` trainings may use so that together they fill, but don't
    oversubscribe, the training CPUs (oversubscribed torch threads spin and slow everyone down)."""
    return max(1, training_cpus() // concurrent)


def _env_int(environ: Mapping[str, str], name: str, minimum: int) -> int | None:
    text = environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(Message("settings.env_not_whole", "{name} must be a whole number, not {text!r}",
                                 name=name, text=text)) from None
    if value < minimum:
        raise ValueError(Message("settings.env_too_small", "{name} must be at least {minimum}, not {value}",
                                 name=name, minimum=minimum, value=value))
    return value


def load_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    """Settings from SOFTMAX_STUDIO_* environment variables; unset or empty ones keep the default.
    A value that can't be used raises ValueError naming the variable."""
    defaults = Settings()
    hosted_text = environ.get("SOFTMAX_STUDIO_HOSTED", "").strip().lower()
    if hosted_text and hosted_text not in TRUE + FALSE:
        raise ValueError(Message("settings.env_hosted", "SOFTMAX_STUDIO_HOSTED must be one of {choices}, not {text!r}",
                                 choices=", ".join(TRUE + FALSE), text=environ["SOFTMAX_STUDIO_HOSTED"]))
    runs_text = environ.get("SOFTMAX_STUDIO_RUNS_DIR", "").strip()
    max_epochs = _env_int(environ, "SOFTMAX_STUDIO_MAX_EPOCHS", 1)
    max_batch = _env_int(environ, "SOFTMAX_STUDIO_MAX_BATCH_SIZE", defaults.limits.min_batch_size)
    limits = replace(defaults.limits, **{k: v for k, v in (("max_epochs", max_epochs), ("max_batch_size", max_batch))
                                        if v is not None})
    hosted = hosted_text in TRUE
    abandon = _env_int(environ, "SOFTMAX_STUDIO_ABANDON_SECONDS", 0)
    return Settings(
        hosted=hosted,
        max_concurrent_trainings=_env_int(environ, "SOFTMAX_STUDIO_MAX_TRAININGS", 1) or defaults.max_concurrent_trainings,
        trainings_per_process=_env_int(environ, "SOFTMAX_STUDIO_TRAININGS_PER_PROCESS", 1)
        or defaults.trainings_per_process,
        max_waiting=_env_int(environ, "SOFTMAX_STUDIO_MAX_QUEUE", 1) or defaults.max_waiting,
        max_fused=_env_int(environ, "SOFTMAX_STUDIO_FUSE", 1) or defaults.max_fused,
        # 0 turns it off; unset: on for a hosted server, where strangers share the line.
        abandon_seconds=(abandon or None) if abandon is not None else HOSTED_ABANDON_SECONDS if hosted else None,
        runs_dir=Path(runs_text).expanduser() if runs_text else defaults.runs_dir,
        limits=limits,
    )


# --- shareable links ----------------------------------------------------------------------

def config_to_params(config: TrainConfig, preset: str | None = None) -> dict[str, str]:
    """Every setting as query-parameter strings (floats in repr, so they read back exactly);
    `preset` first when given. A full set keeps old links right even if a preset changes."""
    params = {"preset": preset} if preset else {}
    for f in fields(TrainConfig):
        params[f.name] = _text(getattr(config, f.name))
    return params


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _parse(name: str, text: str, kind: type):
    """The value of `text` as `kind`, or raise ValueError with the learner-facing reason."""
    text = text.strip()
    if name in CHOICES:
        if text.lower() not in CHOICES[name]:
            raise ValueError(Message("settings.not_one_of", "is not one of {choices}", choices=", ".join(CHOICES[name])))
        return text.lower()
    if kind is bool:
        if text.lower() not in TRUE + FALSE:
            raise ValueError(Message("settings.not_bool", "is not true or false"))
        return text.lower() in TRUE
    try:
        number = float(text)
    except ValueError:
        raise ValueError(Message("settings.not_number", "is not a number")) from None
    if not math.isfinite(number):
        raise ValueError(Message("settings.not_finite", "is not a finite number"))
    if kind is int:
        if not number.is_integer():
            raise ValueError(Message("settings.not_whole", "is not a whole number"))
        return int(text) if text.lstrip("+-").isdigit() else int(number)  # int() keeps huge integers exact
    return number


def config_from_params(params: Mapping[str, str], limits: Limits) -> tuple[TrainConfig, str | None, list[str]]:
    """(config, preset name or None, notes) from a link's query parameters. Never raises:
    an unknown preset or an unreadable value falls back to the default with a note, an
    out-of-range value is clamped to `limits` with a note, and unknown keys are ignored."""
    notes = []
    preset = str(params.get("preset", "")).strip() or None
    if preset is not None and preset not in PRESETS:
        notes.append(Message("settings.unknown_preset", "preset {preset!r} in the link is not one of {presets}; "
                             "using the default settings", preset=preset[:40], presets=", ".join(PRESETS)))
        preset = None
    base = PRESETS[preset] if preset else TrainConfig()
    values = {}
    for name in (f.name for f in fields(TrainConfig) if f.name in params):
        text, default = str(params[name]), getattr(base, name)
        try:
            values[name] = _parse(name, text, KINDS[name])
        except ValueError as error:
            shown = _show(default) if isinstance(default, float) else _text(default)
            notes.append(Message("settings.bad_value", "{label} {text!r} in the link {reason}; using {using}",
                                 label=LABELS[name], text=text[:40], reason=reason(error), using=shown))
    config, clamp_notes = limits.clamp(replace(base, **values))
    return config, preset, notes + clamp_notes

"""The one object that describes a run, and the checks made on it before any work starts."""

import math
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .imageio import FORMATS, MAX_PIXELS
from .plan import OP_CUTMIX, OP_MIXUP, PlanConfig


@dataclass(frozen=True)
class Job:
    op: str
    data: Path
    out: Path
    csv: Path | None = None
    image_dir: Path | None = None
    alpha: float = 1.0
    prob: float = 1.0
    minmax: tuple[float, float] | None = None
    correct_lam: bool = True
    label_smoothing: float = 0.0
    size: tuple[int, int] | None = None
    fmt: str = "jpg"
    quality: int = 95
    seed: int = 0
    workers: int = 0
    overwrite: bool = False
    resume: bool = False
    skip_bad: bool = False

    def validate(self) -> "Job":
        """Raise UsageError on an option out of range; return self."""
        if self.op not in ("mixup", "cutmix"):
            raise UsageError(f"unknown operation {self.op!r}")
        if not (self.alpha > 0 and math.isfinite(self.alpha)):
            raise UsageError(f"--alpha must be a finite number > 0, got {self.alpha}")
        if not 0 <= self.prob <= 1:
            raise UsageError(f"--prob must be in [0, 1], got {self.prob}")
        if not 0 <= self.label_smoothing < 1:
            raise UsageError(f"--label-smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.seed < 0:
            raise UsageError(f"--seed must be >= 0, got {self.seed}")
        if self.minmax is not None:
            lo, hi = self.minmax
            if not 0 < lo <= hi <= 1:
                raise UsageError(f"--minmax needs 0 < LO <= HI <= 1, got {lo} {hi}")
        if self.fmt not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {self.fmt!r}")
        if not 1 <= self.quality <= 100:
            raise UsageError(f"--quality must be in [1, 100], got {self.quality}")
        if self.workers < 0:
            raise UsageError(f"--workers must be >= 1 (or 0 for all cores), got {self.workers}")
        if self.overwrite and self.resume:
            raise UsageError("--overwrite and --resume exclude each other")
        if self.size is not None and (min(self.size) < 1 or self.size[0] * self.size[1] > MAX_PIXELS):
            raise UsageError(f"--size needs positive sides and at most {MAX_PIXELS} pixels, got {self.size[0]}x{self.size[1]}")
        return self

    @property
    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1

    def plan_config(self) -> PlanConfig:
        op = {"mixup": OP_MIXUP, "cutmix": OP_CUTMIX}[self.op]
        return PlanConfig(op=op, alpha=self.alpha, prob=self.prob, minmax=self.minmax, seed=self.seed)


def parse_size(text: str) -> tuple[int, int]:
    """'WxH' -> (W, H)."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise UsageError(f"--size must look like 256x256 (WIDTHxHEIGHT), got {text!r}")
    w, h = (int(p) for p in parts)
    if w < 1 or h < 1:
        raise UsageError(f"--size needs positive sides, got {text!r}")
    return w, h

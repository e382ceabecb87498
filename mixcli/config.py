"""The one object that describes a run, and the checks made on it before any work starts."""

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import UsageError
from .imageio import FORMATS, MAX_PIXELS
from .operations import REGISTRY, Operation, defaults
from .plan import CHUNK
from .store import location


@dataclass(frozen=True)
class Job:
    """op: a registry name; params: that operation's own options (see Job.make); the rest are shared.
    data, out, csv, image_dir: local Paths or, for URLs of object stores, store.Remote."""

    op: str
    data: Path
    out: Path
    params: dict = field(default_factory=dict)
    csv: Path | None = None
    image_dir: Path | None = None
    layout: str = "auto"
    image_col: str = "image"
    label_col: str = "label"
    label_sep: str | None = None
    prob: float = 1.0
    label_smoothing: float = 0.0
    soft: bool = False
    copies: int = 1
    keep_originals: bool = False
    size: tuple[int, int] | None = None
    fmt: str = "jpg"
    quality: int = 95
    seed: int = 0
    workers: int = 0
    overwrite: bool = False
    resume: bool = False
    skip_bad: bool = False
    dry_run: bool = False
    out_layout: str = "flat"
    label_format: str = "dense"
    out_format: str = "files"
    samples_per_tar: int = 1000
    shard_size: int = 10_000
    num_shards: int | None = None
    shard_index: int | None = None
    distributor: str = "local"
    ray_address: str | None = None

    @classmethod
    def make(cls, op: str, data, out, **options) -> "Job":
        """A Job from an operation's name and options, shared and the operation's own alike;
        the operation's options not given take their defaults."""
        if op not in REGISTRY:
            raise UsageError(f"unknown operation {op!r} (one of: {', '.join(REGISTRY)})")
        shared = {f.name for f in fields(cls)} - {"op", "data", "out", "params"}
        params = defaults(REGISTRY[op])
        unknown = [k for k in options if k not in shared and k not in params]
        if unknown:
            raise UsageError(f"{op} has no option {', '.join(unknown)}")
        params.update({k: v for k, v in options.items() if k in params})
        places = {k: location(options[k]) for k in ("csv", "image_dir") if options.get(k) is not None}
        shared_options = {k: v for k, v in options.items() if k in shared} | places
        return cls(op=op, data=location(data), out=location(out), params=params, **shared_options)

    @property
    def outputs_per_input(self) -> int:
        """Output rows per input row: its copies, and its original with keep_originals."""
        return self.copies + (1 if self.keep_originals else 0)

    @property
    def operation(self) -> Operation:
        return REGISTRY[self.op]

    def validate(self) -> "Job":
        """Raise UsageError on an option out of range; return self."""
        if self.op not in REGISTRY:
            raise UsageError(f"unknown operation {self.op!r}")
        if set(self.params) != set(defaults(self.operation)):
            raise UsageError(f"{self.op} takes the options {', '.join(defaults(self.operation))}, got {', '.join(self.params)}")
        self.operation.check(self.params)
        if not 0 <= self.prob <= 1:
            raise UsageError(f"--prob must be in [0, 1], got {self.prob}")
        if self.layout not in ("auto", "csv", "folders"):
            raise UsageError(f"--layout must be auto, csv or folders, got {self.layout!r}")
        if self.label_sep == "":
            raise UsageError("--label-sep must not be empty")
        if self.out_layout not in ("flat", "folders"):
            raise UsageError(f"--out-layout must be flat or folders, got {self.out_layout!r}")
        if self.label_format not in ("dense", "sparse"):
            raise UsageError(f"--label-format must be dense or sparse, got {self.label_format!r}")
        if self.out_format not in ("files", "webdataset"):
            raise UsageError(f"--out-format must be files or webdataset, got {self.out_format!r}")
        if self.samples_per_tar < 1:
            raise UsageError(f"--samples-per-tar must be >= 1, got {self.samples_per_tar}")
        if self.out_format == "webdataset" and self.out_layout == "folders":
            raise UsageError("--out-layout folders and --out-format webdataset exclude each other: a tar has no class folders")
        if self.copies < 1:
            raise UsageError(f"--copies must be >= 1, got {self.copies}")
        if not 0 <= self.label_smoothing < 1:
            raise UsageError(f"--label-smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.seed < 0:
            raise UsageError(f"--seed must be >= 0, got {self.seed}")
        if self.fmt not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {self.fmt!r}")
        if not 1 <= self.quality <= 100:
            raise UsageError(f"--quality must be in [1, 100], got {self.quality}")
        if self.workers < 0:
            raise UsageError(f"--workers must be >= 1 (or 0 for all cores), got {self.workers}")
        if self.shard_size < CHUNK or self.shard_size % CHUNK:
            raise UsageError(f"--shard-size must be a positive multiple of {CHUNK} (the plan's chunk), got {self.shard_size}")
        if self.distributor not in ("local", "ray"):
            raise UsageError(f"--distributor must be local or ray, got {self.distributor!r}")
        if self.overwrite and self.resume:
            raise UsageError("--overwrite and --resume exclude each other")
        if self.size is not None and (min(self.size) < 1 or self.size[0] * self.size[1] > MAX_PIXELS):
            raise UsageError(f"--size needs positive sides and at most {MAX_PIXELS} pixels, got {self.size[0]}x{self.size[1]}")
        return self

    def dataset_options(self) -> dict:
        """load_dataset's arguments."""
        return {
            "data": self.data, "csv": self.csv, "image_dir": self.image_dir, "soft": self.soft, "layout": self.layout,
            "image_col": self.image_col, "label_col": self.label_col, "label_sep": self.label_sep,
        }

    @property
    def n_workers(self) -> int:
        return self.workers or usable_cores()


def usable_cores() -> int:
    """The cores this process may run on (a Slurm or container CPU set), else all of them."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def parse_size(text: str) -> tuple[int, int]:
    """'WxH' -> (W, H)."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise UsageError(f"--size must look like 256x256 (WIDTHxHEIGHT), got {text!r}")
    w, h = (int(p) for p in parts)
    if w < 1 or h < 1:
        raise UsageError(f"--size needs positive sides, got {text!r}")
    return w, h

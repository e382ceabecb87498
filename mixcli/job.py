"""The Job: one run's operation, places and every option that all operations take, each option
declared once here (mixcli.options) with its help, panel and checks.

The CLI builds its commands from these declarations and the operations' own (mixcli.cli),
mixcli.run converts Python values through them, Job.validate runs their checks, and
Job.record writes those that change output bytes into OUT's run record.
"""

import json
import os
from dataclasses import dataclass

from .columns import IMAGE, LABEL
from .data import STDIN
from .errors import UsageError
from .operations import REGISTRY, Operation
from .options import (
    INPUT,
    MIXING,
    OBJECTS,
    OUTPUT,
    RUN,
    SCALING,
    at_least,
    check_values,
    convert,
    declared,
    one_of,
    option,
    parse_shards,
    parse_size,
    within,
)
from .pixels import FORMATS, INTERPOLATIONS, MAX_PIXELS

LAYOUTS = ("auto", "csv", "folders", "yolo", "coco")
PAIRINGS = ("random", "cross-class", "balanced")  # mixcli.plan.pairing draws the last two


def _format(flag: str, value: str) -> None:
    if value not in FORMATS:
        raise UsageError(f"{flag} must be one of {', '.join(FORMATS)}, got {value!r}")


def _size(flag: str, size) -> None:
    if size is not None and (min(size) < 1 or size[0] * size[1] > MAX_PIXELS):
        raise UsageError(f"{flag} needs positive sides and at most {MAX_PIXELS} pixels, got {size[0]}x{size[1]}")


def _remix(flag: str, pair) -> None:
    if pair is not None and not (pair[0] >= 1 and 0 <= pair[1] <= 1):
        raise UsageError(f"{flag} needs KAPPA >= 1 and 0 <= TAU <= 1, got {pair[0]} {pair[1]}")


def _not_empty(flag: str, value) -> None:
    if value == "":
        raise UsageError(f"{flag} must not be empty")


def _workers(flag: str, value: int) -> None:
    if value < 0:
        raise UsageError(f"{flag} must be >= 1 (or 0 for all cores), got {value}")


def _shard_size(flag: str, value: int) -> None:
    from .plan import CHUNK

    if value < CHUNK or value % CHUNK:
        raise UsageError(f"{flag} must be a positive multiple of {CHUNK} (the plan's chunk), got {value}")


@dataclass(frozen=True)
class Job:
    """operation: an operation with its options set; data, out: DATA and OUT as given (paths or URLs)."""

    operation: Operation
    data: str
    out: str

    prob: float = option(1.0, "Probability that a row is mixed; other rows pass through unchanged.", panel=MIXING, check=within(0, 1))
    label_smoothing: float = option(0.0, "Label smoothing EPS: y = (1-EPS)*y + EPS/K before mixing.", metavar="EPS", panel=MIXING, check=within(0, 1, open_right=True))
    copies: int = option(1, "Outputs per input row, each with its own draws (partner, weights, whether it mixes).", metavar="K", panel=MIXING, check=at_least(1))
    keep_originals: bool = option(False, "Also write every input row once, unmixed (op none).", panel=MIXING)
    pairing: str = option("random", "Who a row is mixed with: random (the next rows of a seeded shuffle), cross-class (images of another class; multi-label: sharing no class) or balanced (a class uniform over the classes, then an image of it: Balanced-MixUp).", metavar="|".join(PAIRINGS), panel=MIXING, check=one_of(*PAIRINGS))
    remix: tuple[float, float] | None = option(None, "Remix: the label weight of the row's own image becomes 0 when its class has >= KAPPA times the images of its partner's and lam < TAU, 1 when <= 1/KAPPA times and 1-lam < TAU, else lam (lam, the pixels' weight, is unchanged). The paper suggests 3 0.5.", metavar="KAPPA TAU", panel=MIXING, check=_remix)
    seed: int = option(0, "Random seed: the same seed writes the same bytes, whatever --workers.", metavar="N", panel=MIXING, check=at_least(0))

    csv: str | None = option(None, "CSV to read instead of DATA/train.csv ('-': standard input).", panel=INPUT, output=False, path=True)
    image_dir: str | None = option(None, "Folder the CSV's image paths are relative to [default: DATA or DATA/train].", panel=INPUT, output=False, path=True)
    layout: str = option("auto", "Input layout: a CSV, class folders DATA/<class>/<image>, or a detection dataset: yolo (DATA/images, DATA/labels, DATA/data.yaml) or coco (DATA/annotations.json) [auto: yolo when DATA has images/ and labels/ and no train.csv, else folders when there is no train.csv, else csv].", metavar="|".join(LAYOUTS), panel=INPUT, check=one_of(*LAYOUTS))
    annotations: str | None = option(None, "--layout coco: the annotations file [default: DATA/annotations.json].", metavar="FILE", panel=INPUT, output=False, path=True)
    label_maps: str | None = option(None, "Segmentation label maps: a 1-channel PNG an image at DIR/<image's path, suffix .png>, pixel = class id; mixed as the images, written under OUT/label_maps.", metavar="DIR", panel=INPUT, path=True)
    image_col: str = option(IMAGE, "The CSV's column of image paths.", metavar="NAME", panel=INPUT)
    label_col: str = option(LABEL, "The CSV's column of labels.", metavar="NAME", panel=INPUT)
    label_sep: str | None = option(None, "Multi-label: each label lists classes joined by SEP (e.g. '|'); targets are multi-hot.", metavar="SEP", panel=INPUT, check=_not_empty)
    soft: bool = option(False, "Read the p_<class> columns as soft labels even when the CSV has a label column.", panel=INPUT)

    min_visibility: float = option(0.1, "Keep an object when at least this share of its (resized, placed) box is seen in the output.", metavar="SHARE", panel=OBJECTS, check=within(0, 1))
    min_box_size: float = option(2.0, "Keep an object when both sides of its output box are at least this many pixels.", metavar="PX", panel=OBJECTS, check=at_least(0))
    ignore_index: int = option(255, "The label maps' class of 'no class': where no source is seen (Cutout's holes, padding).", metavar="0-255", panel=OBJECTS, check=within(0, 255))

    size: tuple[int, int] | None = option(None, "Resize every image to WIDTHxHEIGHT first, e.g. 256x256 [default: keep sizes].", metavar="WxH", panel=OUTPUT, parse=parse_size, check=_size)
    interpolation: str = option("auto", "How images are resized: auto (area when shrinking, else linear), area, linear, cubic or nearest. Label maps: always nearest.", metavar="|".join(INTERPOLATIONS), panel=OUTPUT, check=one_of(*INTERPOLATIONS))
    fmt: str = option("jpg", "Output image format: jpg or png (lossless).", flags=("--format",), metavar="jpg|png", panel=OUTPUT, check=_format)
    quality: int = option(95, "JPEG quality, 1-100.", panel=OUTPUT, check=within(1, 100))
    label_format: str = option("dense", "dense: a p_<class> column a class; sparse: one soft_label column of class:weight pairs joined by ';' (zeros left out), for many classes.", metavar="dense|sparse", panel=OUTPUT, check=one_of("dense", "sparse"))
    out_layout: str = option("flat", "flat: OUT/images/<name>; folders: OUT/images/<label>/<name>, for tools that read class folders.", metavar="flat|folders", panel=OUTPUT, check=one_of("flat", "folders"))
    out_format: str = option("files", "imagefolder: for Hugging Face datasets.load_dataset('imagefolder', data_dir=OUT): the table is OUT/metadata.csv (image column file_name; metadata.jsonl with objects nested, for a detection layout). webdataset: tar files OUT/shards/NNNNNN.tar of samples <key>.jpg + <key>.json (its train.csv row), for streaming loaders; train.csv indexes them.", metavar="files|imagefolder|webdataset", panel=OUTPUT, check=one_of("files", "imagefolder", "webdataset"))
    samples_per_tar: int = option(1000, "--out-format webdataset: samples a tar file.", metavar="N", panel=OUTPUT, check=at_least(1))

    workers: int = option(0, "Worker threads [default: the cores this process may use].", metavar="N", panel=RUN, output=False, check=_workers, show_default=False)
    overwrite: bool = option(False, "Write into a non-empty OUT (its train.csv is replaced).", panel=RUN, output=False)
    resume: bool = option(False, "Finish an interrupted run in OUT (same options): keeps finished images.", panel=RUN, output=False)
    skip_bad: bool = option(False, "Drop rows whose image cannot be decoded (listed in OUT/skipped.csv) instead of stopping.", panel=RUN)
    dry_run: bool = option(False, "Check everything and print what would be written (rows per op, classes, the first rows of train.csv); write nothing.", flags=("--dry-run", "-n"), panel=RUN, output=False)

    shard_size: int = option(10_000, "Input rows a shard: the unit of work of shard groups and of --resume (a multiple of 16).", metavar="ROWS", panel=SCALING, check=_shard_size)
    shards: tuple[int | None, int] | None = option(None, "Run shard group I of N only, into an OUT shared with the other groups, without writing train.csv (then: mixcli merge OUT); all: the whole run, whatever the environment [default: from a Slurm array, srun's tasks or JOB_COMPLETION_INDEX, else the whole run].", metavar="I/N", panel=SCALING, output=False, parse=parse_shards)
    num_shards: int | None = option(None, "The N of --shards, alone for a Kubernetes Indexed Job (the index from JOB_COMPLETION_INDEX).", metavar="N", panel=SCALING, output=False)
    shard_index: int | None = option(None, "The I of --shards.", metavar="I", panel=SCALING, output=False)
    distributor: str = option("local", "ray: each shard is a Ray task of --workers threads [default 1] (pip install 'mixcli[ray]'); OUT must be reachable from every node.", metavar="local|ray", panel=SCALING, output=False, check=one_of("local", "ray"))
    ray_address: str | None = option(None, "The Ray cluster to use [default: RAY_ADDRESS, else a local Ray].", metavar="ADDR", panel=SCALING, output=False)

    @classmethod
    def make(cls, op: str, data, out, **options) -> "Job":
        """A Job from an operation's name, DATA, OUT and options (the operation's own and the
        shared ones, by their Python names), each converted to its declared type; options not
        given take their defaults."""
        if op not in REGISTRY:
            raise UsageError(f"unknown operation {op!r} (one of: {', '.join(REGISTRY)})")
        kind = REGISTRY[op]
        own, shared = {d.name: d for d in declared(kind)}, {d.name: d for d in declared(cls)}
        unknown = [k for k in options if k not in own and k not in shared]
        if unknown:
            raise UsageError(f"{op} has no option {', '.join(unknown)}")
        values = {k: convert(own.get(k) or shared[k], v) for k, v in options.items()}
        operation = kind(**{k: v for k, v in values.items() if k in own})
        return cls(operation=operation, data=os.fspath(data), out=os.fspath(out), **{k: v for k, v in values.items() if k in shared})

    @property
    def op(self) -> str:
        return self.operation.name

    @property
    def outputs_per_input(self) -> int:
        """Output rows per input row: its copies, and its original with keep_originals."""
        return self.copies + (1 if self.keep_originals else 0)

    @property
    def n_workers(self) -> int:
        return self.workers or usable_cores()

    def validate(self) -> "Job":
        """Raise UsageError on a place, option or combination of options that cannot be; return self."""
        from .store import open_store

        for place in (self.data, self.out, self.csv, self.image_dir):
            if place is not None:
                open_store(place)
        self.operation.validate()
        check_values(self)
        sources = self.operation.sources
        if self.pairing != "random" and sources < 2:
            raise UsageError(f"--pairing chooses partners, and {self.op} has none: it changes one image")
        if self.remix is not None and sources != 2:
            raise UsageError(f"--remix reweights a mix of two images, and {self.op} mixes {sources}")
        if self.remix is not None and self.label_sep is not None:
            raise UsageError("--remix compares single-label classes' counts: it cannot go with --label-sep")
        if self.out_format == "imagefolder" and self.out_layout == "folders":
            raise UsageError("--out-layout folders and --out-format imagefolder exclude each other: metadata.csv holds the labels, and datasets takes a class folder named like a split (test, val, ...) for one")
        if self.out_format == "webdataset" and self.out_layout == "folders":
            raise UsageError("--out-layout folders and --out-format webdataset exclude each other: a tar has no class folders")
        if self.overwrite and self.resume:
            raise UsageError("--overwrite and --resume exclude each other")
        if self.shards is not None and (self.num_shards is not None or self.shard_index is not None):
            raise UsageError("--shards excludes --num-shards and --shard-index")
        if self.distributor == "ray" and self.csv == STDIN:
            raise UsageError("--csv - cannot go with --distributor ray: the tasks cannot read this process's standard input")
        return self

    def dataset_options(self) -> dict:
        """load_dataset's arguments: DATA and the options of the Input panel."""
        return {"data": self.data} | {d.name: getattr(self, d.name) for d in declared(Job) if d.spec.panel == INPUT}

    def run_record(self, digest: str, rows: int, shards: int) -> dict:
        """OUT's run record (mixcli.outdir.state) of this job: the options that change output bytes
        (the operation's all do), with the input's digest, rows and shards."""
        from .outdir.state import run_record

        options = {"op": self.op}
        options |= {d.name: getattr(self, d.name) for d in declared(Job) if d.spec.output}
        options |= {d.name: getattr(self.operation, d.name) for d in declared(type(self.operation))}
        return run_record(json.loads(json.dumps(options)), digest, rows, shards)


def flags() -> dict[str, str]:
    """Each option's flag, by its Python name (how messages name an option)."""
    return {d.name: d.flag for kind in (Job, *REGISTRY.values()) for d in declared(kind)}


def usable_cores() -> int:
    """The cores this process may run on (a Slurm or container CPU set), else all of them."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Messages:
    """What a run prints (the command's options; mixcli.run takes them too)."""

    quiet: bool = option(False, "No progress bar and no summary line.", flags=("--quiet", "-q"), panel=RUN, output=False)
    json: bool = option(False, "Print a JSON summary on stdout.", flags=("--json",), panel=RUN, output=False)

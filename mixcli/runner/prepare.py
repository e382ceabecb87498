"""A run's first phase: everything it will do, worked out before anything is written.

prepare reads and checks the dataset, draws the plan, lays out the shards and the shard group,
names every output and makes the run record; it writes nothing (a dry run stops after it).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import columns
from ..annotations import yolo
from ..data.dataset import Dataset, load_dataset
from ..data.labels import Remix, row_label
from ..data.table import Table
from ..errors import MixcliError, UsageError
from ..job import Job
from ..outdir import Out
from ..pixels import FORMATS
from ..plan import Members, Plan, make_plan
from ..records import RowResult
from ..store import open_store
from . import formats, shards


@dataclass(frozen=True)
class Prepared:
    """job: the validated job; out: OUT; ds: the dataset; plan: every draw; layout: the chunk ids
    of each shard; group: the shard group (None: the whole run); mine: the group's shards;
    names, masks: the output files by output row, relative to OUT (masks None without masks);
    run_record: what OUT's run.json holds; format: how outputs reach OUT; labels: a YOLO
    dataset's label file of an output row's marks (None for another); remix: --remix's label
    weights (None without)."""

    job: Job
    out: Out
    ds: Dataset
    plan: Plan
    layout: list[range]
    group: tuple[int, int] | None
    mine: list[int]
    names: list[str]
    masks: list[str] | None
    run_record: dict
    format: formats.Files
    labels: Callable[[Any], bytes] | None = None
    remix: Remix | None = None

    def table(self, results: list[RowResult], rows: list[int]) -> Table:
        """train.csv's rows for these output rows, from their results (the label options are read here)."""
        job = self.job
        return Table(
            self.ds, results, [self.names[r] for r in rows], self.masks and [self.masks[r] for r in rows],
            smoothing=job.label_smoothing, label_sep=job.label_sep, sparse=job.label_format == "sparse", placed=self.format.placed(), remix=self.remix, image_column=self.format.image_column,
        )

    def beside(self) -> list[str]:
        """The folders under OUT of the files written beside the images: masks, labels, label maps."""
        return [folder for folder, used in ((Out.MASKS, self.masks is not None), (Out.LABELS, self.labels is not None), (Out.LABEL_MAPS, self.ds.maps is not None)) if used]

    def objects_part(self, table, rows: list[int]) -> bytes | None:
        """A COCO dataset's shard part of annotations.json (or of metadata.jsonl, for any dataset
        with objects): each written row's [row, image, w, h, objects], a JSON line each (None for another dataset)."""
        objects = self.ds.objects
        if objects is None or not (objects.format == "coco" or self.format.table == columns.METADATA_JSONL):
            return None
        lines = (json.dumps([r, image, *size, found]) + "\n" for r, image, size, found in zip(rows, table.images, table.sizes, table.objects))
        return "".join(lines).encode()

    def label(self, sources: list[int], weights) -> object:
        """The label of an output row mixed from these sources with these weights, as the table writes it."""
        if self.remix is not None:
            weights = self.remix.row(sources, weights)
        return row_label(self.ds.targets, self.ds.classes, sources, weights, self.job.label_smoothing, self.job.label_sep)


def prepare(job: Job, files_found: bool = False) -> Prepared:
    """Prepare job; raise MixcliError on bad input. files_found: the images were found already (a
    Ray task: its driver looked for them under job.image_dir)."""
    job.validate()
    group = shards.of_job(job)
    if group is not None and job.overwrite:
        raise UsageError("--overwrite cannot be given to a shard group (its tasks would clear each other's work): clear OUT once, then start the groups")
    ds = load_dataset(**job.dataset_options(), check_files=not files_found, skip_bad=job.skip_bad)
    _fits(job, ds)
    clash = next((str(c) for c in ds.classes if ";" in str(c)), None) if job.label_format == "sparse" else None
    if clash is not None:
        raise MixcliError(f"--label-format sparse joins classes with ';', which class {clash!r} holds: use dense")
    try:
        plan = make_plan(len(ds), job.operation, job.prob, job.seed, job.copies, job.pairing, members_of(job, ds), ds.images)
    except ValueError as e:
        raise MixcliError(str(e)) from None
    layout = shards.layout(len(plan.chunks), job.shard_size)
    fmt = formats.of_job(job, ds.objects is not None)
    names = Out.image_names(ds.images, FORMATS[job.fmt], job.copies, job.keep_originals, stems=fmt.stems)
    labels = None
    if ds.objects is not None and ds.objects.format == "yolo":
        ids = ds.objects.ids()

        def labels(marks) -> bytes:
            return yolo.label_text(marks.objects, ids, *marks.size)

    return Prepared(
        job=job, out=Out(open_store(job.out), fmt.table), ds=ds, plan=plan, layout=layout, group=group,
        mine=shards.of_group(len(layout), group), names=names,
        masks=Out.mask_names(names) if job.operation.masks else None,
        run_record=job.run_record(ds.digest, len(ds), len(layout)), format=fmt, labels=labels,
        remix=Remix.of(ds.targets, *job.remix) if job.remix is not None else None,
    )


def members_of(job: Job, ds: Dataset) -> Members | None:
    """Each input row's classes for --pairing: its hard label, or every class it has with --label-sep."""
    if job.pairing == "random":
        return None
    t = ds.targets
    if t is None:
        raise UsageError(f"--pairing {job.pairing} follows class labels, which --layout {ds.objects.format} has none of")
    return Members(t.indptr, t.indices.astype(np.int64), ds.classes) if job.label_sep is not None else Members.single(t.hard(), ds.classes)


def _fits(job: Job, ds: Dataset) -> None:
    """Refuse options that a dataset with objects or label maps cannot go with."""
    what = "--layout " + ds.objects.format if ds.objects is not None else "--label-maps" if ds.maps is not None else None
    if what is None:
        return
    if job.out_format == "webdataset":
        raise UsageError(f"{what} writes its labels beside the images: --out-format webdataset does not carry them yet")
    if ds.targets is None and job.out_layout == "folders":
        raise UsageError(f"--out-layout folders files images by class label, which {what} has none of")
    if ds.targets is None and job.remix is not None:
        raise UsageError(f"--remix follows class labels, which {what} has none of")
    if ds.targets is None and job.label_smoothing:
        raise UsageError(f"--label-smoothing smooths class labels, which {what} has none of")
    if ds.targets is None and job.label_format != "dense":
        raise UsageError(f"--label-format {job.label_format} writes class labels, which {what} has none of")

"""A run's first phase: everything it will do, worked out before anything is written.

prepare reads and checks the dataset, draws the plan, lays out the shards and the shard group,
names every output and makes the run record; it writes nothing (a dry run stops after it).
"""

from dataclasses import dataclass

from ..data.dataset import Dataset, load_dataset
from ..data.labels import row_label
from ..data.table import Table
from ..errors import MixcliError, UsageError
from ..job import Job
from ..outdir import Out
from ..pixels import FORMATS
from ..plan import Plan, make_plan
from ..records import RowResult
from ..store import open_store
from . import formats, shards


@dataclass(frozen=True)
class Prepared:
    """job: the validated job; out: OUT; ds: the dataset; plan: every draw; layout: the chunk ids
    of each shard; group: the shard group (None: the whole run); mine: the group's shards;
    names, masks: the output files by output row, relative to OUT (masks None without masks);
    run_record: what OUT's run.json holds; format: how outputs reach OUT."""

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

    def table(self, results: list[RowResult], rows: list[int]) -> Table:
        """train.csv's rows for these output rows, from their results (the label options are read here)."""
        job = self.job
        return Table(
            self.ds, results, [self.names[r] for r in rows], self.masks and [self.masks[r] for r in rows],
            smoothing=job.label_smoothing, label_sep=job.label_sep, sparse=job.label_format == "sparse", placed=self.format.placed(),
        )

    def label(self, sources: list[int], weights) -> object:
        """The label of an output row mixed from these sources with these weights, as the table writes it."""
        return row_label(self.ds.targets, self.ds.classes, sources, weights, self.job.label_smoothing, self.job.label_sep)


def prepare(job: Job, files_found: bool = False) -> Prepared:
    """Prepare job; raise MixcliError on bad input. files_found: the images were found already (a
    Ray task: its driver looked for them under job.image_dir)."""
    job.validate()
    group = shards.of_job(job)
    if group is not None and job.overwrite:
        raise UsageError("--overwrite cannot be given to a shard group (its tasks would clear each other's work): clear OUT once, then start the groups")
    ds = load_dataset(**job.dataset_options(), check_files=not files_found)
    clash = next((str(c) for c in ds.classes if ";" in str(c)), None) if job.label_format == "sparse" else None
    if clash is not None:
        raise MixcliError(f"--label-format sparse joins classes with ';', which class {clash!r} holds: use dense")
    try:
        plan = make_plan(len(ds), job.operation, job.prob, job.seed, job.copies)
    except ValueError as e:
        raise MixcliError(str(e)) from None
    layout = shards.layout(len(plan.chunks), job.shard_size)
    names = Out.image_names(ds.images, FORMATS[job.fmt], job.copies, job.keep_originals)
    return Prepared(
        job=job, out=Out(open_store(job.out)), ds=ds, plan=plan, layout=layout, group=group,
        mine=shards.of_group(len(layout), group), names=names,
        masks=Out.mask_names(names) if job.operation.masks else None,
        run_record=job.run_record(ds.digest, len(ds), len(layout)), format=formats.of_job(job),
    )

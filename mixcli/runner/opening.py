"""A run's second phase: open OUT — start a new run there, resume the one recorded, or join the
run other shard groups recorded — and find the shards still to do."""

from dataclasses import dataclass

from ..errors import MixcliError
from ..job import flags
from ..outdir.state import differences


@dataclass(frozen=True)
class Opened:
    """todo: the shards of the run (or its group) not done yet; reused: OUT may hold files of an
    earlier run (--overwrite) or of this one (resumed), which the finish removes if train.csv does not list them."""

    todo: list[int]
    reused: bool


def resuming(prep) -> bool:
    """Whether the run goes on with one recorded in OUT: a shard group joins the run other groups
    recorded; a whole run resumes one only when asked (and OUT must then hold one, or nothing)."""
    job, out = prep.job, prep.out
    found = (job.resume or prep.group is not None) and out.state.exists()
    if job.resume and not found and out.store.is_folder() and out.store.entries():
        raise MixcliError(f"nothing to resume in {out}: it holds no unfinished mixcli run")
    return found


def reusable(prep, again: bool) -> bool:
    """Whether OUT may hold files already: --overwrite, or a run going on (again: resuming(prep))."""
    return prep.job.overwrite or again


def check_record(prep) -> None:
    """Refuse to go on with the run recorded in OUT with other options or input (reads only)."""
    before = prep.out.state.read()
    if before != prep.run_record:
        raise MixcliError(f"{prep.out} was started with other options or input ({differences(before, prep.run_record, flags())}): rerun with those, or use --overwrite")


def open_out(prep) -> Opened:
    """Check and prepare OUT, then start the run's state there (or resume it, or join the shard
    group's run); return the shards still to do."""
    out = prep.out
    again = resuming(prep)
    starting = prep.group is not None and out.holds_only_mixcli()  # groups started together: the first made these
    out.prepare(prep.ds.inputs, reuse=reusable(prep, again) or starting, folders=prep.format.folders(prep.beside()))
    if prep.group is None:  # a group's OUT may hold other groups' temporaries in flight: the merge removes them
        out.remove_temporaries()
    if again:
        check_record(prep)
    elif prep.group is not None:
        out.state.join(prep.run_record)
        check_record(prep)
    else:
        out.store.delete([*out.TABLES, out.SKIPPED, out.DATA_YAML, out.ANNOTATIONS])  # a stale table must never describe new images
        out.state.start(prep.run_record)
    objects = prep.ds.objects
    if not again:
        out.state.start_labels(None if objects is None else {"format": objects.format, "categories": objects.categories})
    return Opened([s for s in prep.mine if not out.state.shard_done(s)], reusable(prep, again))

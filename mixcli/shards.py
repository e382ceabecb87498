"""Shards: fixed groups of the plan's chunks, so that one run can be spread over many processes.

A shard is --shard-size input rows' worth of consecutive chunks of the seeded plan. The plan
alone says what every chunk writes, so the output depends neither on the shard size nor on
where, when or how often a shard ran. Shard group I of N is the shards s with s % N == I.
The merge joins the shards' parts of train.csv in output-row order, reading one line of each
at a time.
"""

import contextlib
import csv
import heapq
import io
import os
from pathlib import Path

from . import state
from .errors import MixcliError, UsageError
from .plan import CHUNK
from .table import ROW
from .writer import write_atomic, write_text_with


def layout(chunks: int, shard_size: int) -> list[range]:
    """The chunk ids of each shard."""
    per = shard_size // CHUNK
    return [range(i, min(i + per, chunks)) for i in range(0, chunks, per)]


def group(shard_index: int | None, num_shards: int | None, env=os.environ) -> tuple[int, int] | None:
    """(I, N): the shard group to run, from the options, else from a Slurm array, the tasks of a
    Slurm job step (srun) or a Kubernetes Indexed Job; None: the whole run (and the merge). One
    task alone is the whole run; num_shards 0 (--shards all) is the whole run whatever the environment."""
    if num_shards == 0:
        if shard_index is not None:
            raise UsageError("--num-shards must be >= 1")
        return None
    if shard_index is not None or num_shards is not None:
        if num_shards is None:
            raise UsageError("--shard-index needs --num-shards (or use --shards I/N)")
        if shard_index is None:
            index = env.get("JOB_COMPLETION_INDEX")
            if index is None or not index.isdigit():
                raise UsageError("--num-shards needs --shard-index (or a Kubernetes JOB_COMPLETION_INDEX)")
            shard_index = int(index)
        found = (shard_index, num_shards)
    elif env.get("SLURM_ARRAY_TASK_ID", "").isdigit():
        found = _slurm_array(env)
    elif env.get("SLURM_STEP_ID", "").isdigit() and _ints(env, "SLURM_PROCID", "SLURM_NTASKS"):
        found = _ints(env, "SLURM_PROCID", "SLURM_NTASKS")  # srun's tasks (a batch script alone has no step id)
    else:
        return None
    i, n = found
    if n < 1 or not 0 <= i < n:
        raise UsageError(f"shard group {i} of {n} does not exist: the index must be in [0, {n})")
    if n == 1 and shard_index is None:
        return None
    return found


def _slurm_array(env) -> tuple[int, int]:
    """This array task's group: (ID - MIN) / STEP of COUNT (or of (MAX - MIN) / STEP + 1)."""
    task, low = int(env["SLURM_ARRAY_TASK_ID"]), int(env.get("SLURM_ARRAY_TASK_MIN", "0") or 0)
    step = int(env.get("SLURM_ARRAY_TASK_STEP", "1") or 1)
    count = env.get("SLURM_ARRAY_TASK_COUNT", "")
    high = env.get("SLURM_ARRAY_TASK_MAX", "")
    n = int(count) if count.isdigit() else (int(high) - low) // step + 1 if high.isdigit() else None
    if n is None or step < 1 or (task - low) % step or (task - low) // step >= n:
        raise UsageError("cannot tell this Slurm array task's shard group (an array of listed indices?): give --shards I/N, or --shards all for the whole run")
    return (task - low) // step, n


def _ints(env, *names: str) -> tuple[int, ...] | None:
    values = [env.get(name, "") for name in names]
    return tuple(int(v) for v in values) if all(v.isdigit() for v in values) else None


def parse(text: str) -> tuple[int | None, int]:
    """'I/N' -> (I, N); 'all' -> (None, 0): the whole run, whatever the environment says."""
    if text.strip() == "all":
        return None, 0
    parts = text.split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise UsageError(f"--shards must look like 3/8 (group 3 of 8) or be all, got {text!r}")
    return int(parts[0]), int(parts[1])


def of_group(shards: int, group: tuple[int, int] | None) -> list[int]:
    """The shards of group (I, N): those s with s % N == I; None: all."""
    return [s for s in range(shards) if group is None or s % group[1] == group[0]]


def missing(out: Path, shards: int) -> list[int]:
    return [s for s in range(shards) if not state.shard_done(out, s)]


def merge(out: Path, shards: int, csv_name: str, skipped_name: str) -> list[str]:
    """Write OUT/train.csv (and skipped.csv) from every shard's part; return the files train.csv
    lists (relative to OUT). Raises MixcliError naming the shards not done."""
    absent = missing(out, shards)
    if absent:
        names = ", ".join(str(s) for s in absent[:20]) + (", ..." if len(absent) > 20 else "")
        raise MixcliError(f"{len(absent)} of {shards} shards are not done ({names}): run them, then merge again")
    skipped = sorted(tuple(x) for s in range(shards) for x in state.shard_stats(out, s)["skipped"])
    if skipped:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["image", "error"])
        w.writerows((image, error) for _, image, error in skipped)
        write_atomic(out / skipped_name, buf.getvalue().encode())
    else:
        (out / skipped_name).unlink(missing_ok=True)
    listed: list[str] = []

    def fill(text) -> None:
        # A part holds one row a line (dataset.py refuses line breaks in paths and labels), its
        # first field the output row, its second the image and its last the mask, both made by mixcli.
        listed.clear()
        with contextlib.ExitStack() as stack:
            parts = [stack.enter_context(state.part_path(out, s).open("r", newline="", encoding="utf-8")) for s in range(shards)]
            headers = [next(p, None) for p in parts]
            header = headers[0]
            if header is None or not header.startswith(f"{ROW},") or any(h != header for h in headers):
                raise MixcliError(f"the shards' parts in {state.shards_folder(out)} do not agree: rerun with --overwrite")
            text.write(header[len(ROW) + 1 :])
            for line in heapq.merge(*parts, key=lambda line: int(line[: line.index(",")])):
                rest = line[line.index(",") + 1 :]
                text.write(rest)
                listed.append(rest[: rest.index(",")])
                mask = rest.rstrip("\n").rsplit(",", 1)[1]
                if mask:
                    listed.append(mask)

    lost = [s for s in range(shards) if not state.part_path(out, s).is_file()]
    if lost:
        raise MixcliError(f"the parts of train.csv of shards {', '.join(map(str, lost[:20]))} are missing from {state.shards_folder(out)}: rerun with --overwrite")
    write_text_with(out / csv_name, fill)
    return listed

"""The run: read the dataset, draw the plan, stream its chunks through worker threads, write OUT.

Decoding, the kernels and encoding all release the GIL, so a thread pool keeps every core
busy. At most two chunks per worker are queued, so memory does not grow with the dataset.
A finished shard (mixcli.shards) writes its part of train.csv; the whole run merges the parts,
a shard group leaves that to `mixcli merge`.
"""

import os
import re
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np

from . import imageio, ops, shards, state
from .config import Job
from .dataset import Dataset, load_dataset
from .errors import MixcliError, UsageError
from .imageio import FORMATS
from .mixing import ChunkResult, Interrupted, Work, paint_chunk, run_chunk
from .operations import NONE, REGISTRY
from .plan import make_plan
from .store import location
from .table import Table, gather, skipped_rows
from .writer import STAGE, TARS, Under, check_out, holds_only_mixcli, mask_names, output_names, prepare_out, remove_files, remove_temporaries, remove_tree, remove_unlisted

CSV_NAME = "train.csv"
SKIPPED_NAME = "skipped.csv"
DRY_ROWS = 5  # rows of train.csv a dry run shows


class RunInterrupted(MixcliError):
    """Ctrl-C or SIGTERM: finished work is kept and the run can be resumed."""

    exit_code = 130


def run(job: Job, progress: bool = True, *, files_found: bool = False) -> dict:
    """Do the whole job, or its shard group; return a summary. Raises MixcliError on bad input.
    files_found: the images were found already (a Ray task: its driver looked under job.image_dir)."""
    start = time.perf_counter()
    job.validate()
    if job.distributor == "ray" and not job.dry_run:
        from .distribute import connected

        with connected(job):  # before OUT is touched: an unreachable Ray leaves nothing behind
            return _run(job, progress, start)
    return _run(job, progress, start, files_found)


def _run(job: Job, progress: bool, start: float, files_found: bool = False) -> dict:
    imageio.reset_decoded()
    group = shards.group(job.shard_index, job.num_shards)
    if group is not None and job.overwrite:
        raise UsageError("--overwrite cannot be given to a shard group (its tasks would clear each other's work): clear OUT once, then start the groups")
    ds = load_dataset(**job.dataset_options(), check_files=not files_found)
    clash = next((str(c) for c in ds.classes if ";" in str(c)), None) if job.label_format == "sparse" else None
    if clash is not None:
        raise MixcliError(f"--label-format sparse joins classes with ';', which class {clash!r} holds: use dense")
    try:
        plan = make_plan(len(ds), job.operation, job.params, job.prob, job.seed, job.copies)
    except ValueError as e:
        raise MixcliError(str(e)) from None
    layout = shards.layout(len(plan.chunks), job.shard_size)
    record = state.run_record(job, ds.digest, len(ds), len(layout))
    # A shard group joins the run that other groups recorded in OUT; a whole run resumes one only when asked.
    resuming = (job.resume or group is not None) and state.has_run(job.out)
    if job.resume and not resuming and job.out.is_dir() and any(job.out.iterdir()):
        raise MixcliError(f"nothing to resume in {job.out}: it holds no unfinished mixcli run")
    if job.dry_run:
        check_out(job.out, ds.inputs, reuse=job.overwrite or resuming)
        if resuming:
            state.check(job.out, record)
        return _dry_run(job, ds, plan, time.perf_counter() - start, group, layout)
    starting = group is not None and holds_only_mixcli(job.out)  # groups started together: the first made these
    prepare_out(job.out, ds.inputs, reuse=job.overwrite or resuming or starting, masks=job.operation.masks, staged=job.out_format == "webdataset")
    if group is None:  # a group's OUT may hold other groups' temporaries in flight: the merge removes them
        remove_temporaries(job.out)
    if resuming:
        state.check(job.out, record)
    elif group is not None:
        state.join(job.out, record)
    else:
        for name in (CSV_NAME, SKIPPED_NAME):  # a stale table must never describe new images
            (job.out / name).unlink(missing_ok=True)
        state.start(job.out, record)
    mine = shards.of_group(len(layout), group)
    todo = [s for s in mine if not state.shard_done(job.out, s)]
    names = output_names(ds.images, FORMATS[job.fmt], job.copies, job.keep_originals)
    masks = mask_names(names) if job.operation.masks else None
    if todo and job.distributor == "ray":
        from .distribute import run_shards

        run_shards(job, ds.root, todo, len(layout), progress)
    elif todo:
        root = job.out / STAGE if job.out_format == "webdataset" else job.out
        work = Work(
            job=job, plan=plan, files=ds.files, outputs=Under(root, names),
            masks=Under(root, masks) if masks else None, stop=threading.Event(),
            folder_of=_folder_of(job, ds) if job.out_layout == "folders" else None,
        )
        finish = lambda s, results: _finish_shard(job, ds, plan, layout, names, masks, s, results)  # noqa: E731
        _apply(work, {s: layout[s] for s in todo}, finish, progress)
    if group is not None:
        return _group_summary(job, layout, mine, group, time.perf_counter() - start)
    removed = 0
    if not (job.out / CSV_NAME).is_file() or todo:
        listed, removed = _merge(job.out, len(layout))
        if job.overwrite or resuming:  # files of an earlier run; a new run starts in an empty OUT
            removed += remove_unlisted(job.out, listed)
    return {**_summary(job, ds, time.perf_counter() - start), "removed": removed}


def merge(out: Path) -> dict:
    """`mixcli merge OUT`: train.csv (and skipped.csv) from the shards every group has finished."""
    start = time.perf_counter()
    out = location(out)
    if not state.has_run(out):
        raise MixcliError(f"{out} holds no mixcli run to merge")
    record = state.read_record(out)
    count = record.get("shards")
    if not isinstance(count, int):
        raise MixcliError(f"{out / '.mixcli' / state.RUN} records no shards: it was written by another mixcli version")
    if (out / CSV_NAME).is_file() and not shards.missing(out, count) and not any(state.part_path(out, s).is_file() for s in range(count)):
        return {**_table_counts(out), "out": str(out), "csv": str(out / CSV_NAME), "shards": count, "seconds": 0.0, "merged_before": True}
    _merge(out, count)
    return {**_table_counts(out), "out": str(out), "csv": str(out / CSV_NAME), "shards": count, "seconds": round(time.perf_counter() - start, 3)}


def _merge(out: Path, count: int) -> tuple[list[str], int]:
    """train.csv and skipped.csv from the shards' parts, then the parts, the staged images, the
    temporaries and an earlier run's tars go. Return the files train.csv lists and the tars removed."""
    listed = shards.merge(out, count, CSV_NAME, SKIPPED_NAME)
    removed = _remove_unlisted_tars(out, listed)
    remove_temporaries(out)
    remove_tree(out / STAGE)
    state.finish(out, count)
    return listed, removed


def _finish_shard(job: Job, ds: Dataset, plan, layout: list, names: list[str], masks: list[str] | None, s: int, results: list[ChunkResult]) -> None:
    """Shard s's chunks are all written: its tars (webdataset), its part of train.csv and its stats."""
    from collections import Counter

    rows, g = gather(results)
    table = Table(job, ds, [names[r] for r in rows], masks and [masks[r] for r in rows], g)
    written = [rows[k] for k in table.kept]
    staged = []
    if job.out_format == "webdataset":
        from . import webdataset

        tars = webdataset.tars_of(written, layout, plan.chunks, len(ds), job.outputs_per_input, job.samples_per_tar, shards=[s])
        staged = webdataset.rename(table, tars)
        webdataset.pack(job.out, table, tars, staged)
    stats = {
        "shard": s, "rows": len(table), "ops": dict(Counter(table.ops)),
        "skipped": [[i, image, error] for i, image, error in skipped_rows(ds, g)],
        "seconds": round(sum(r.seconds for r in results), 3),
    }
    state.finish_shard(job.out, s, lambda text: table.write(text, written), stats)
    remove_files(job.out, [p for pair in staged for p in pair if p])  # packed: after the stats, so a shard killed before them packs again


def _remove_unlisted_tars(out: Path, listed: list[str]) -> int:
    """Delete tar files named as mixcli names them under OUT/shards that train.csv does not point into (an earlier run's)."""
    if not (out / TARS).is_dir():
        return 0
    keep = {name.split("/")[1] for name in listed if name.startswith(f"{TARS}/")}
    stale = [p.name for p in (out / TARS).iterdir() if re.fullmatch(r"\d{6}\.tar", p.name) and p.name not in keep]  # mixcli's names only
    remove_files(out / TARS, stale)
    return len(stale)


def hold_freed_memory() -> None:
    """With glibc, keep freed blocks under 32 MiB in the process (no mmap, no trim) for the rest of it.

    Each image's arrays and buffers are freed and allocated again; glibc hands big blocks back
    to the kernel and takes them again, and every page comes back through a page fault: 16 a
    500x375 image and 270 a 2016x1512 one, 2-5 % of mixcli's CPU time. For the command only:
    the Python API leaves its host process's allocator alone.
    """
    import ctypes

    try:
        os.confstr("CS_GNU_LIBC_VERSION")
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest allowed value
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    except (ValueError, OSError, AttributeError):  # not glibc: its allocator is left as it is
        pass


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # malloc.h


def _folder_of(job: Job, ds: Dataset):
    """(sources, weights) -> the folder of the row's label, as table.output_table will name it."""
    from .labels import row_label
    from .writer import label_folder

    return lambda sources, weights: label_folder(row_label(ds.targets, ds.classes, sources, weights, job.label_smoothing, job.label_sep))


def _dry_run(job: Job, ds: Dataset, plan, seconds: float, group: tuple[int, int] | None = None, layout: list | None = None) -> dict:
    """What the run (or its shard group) would write, nothing written: rows per op from the plan,
    and the first DRY_ROWS rows of train.csv from painting (in memory) the chunks that hold them."""
    from collections import Counter

    op = job.operation
    n = len(ds)
    names = output_names(ds.images, FORMATS[job.fmt], job.copies, job.keep_originals)
    masks = mask_names(names) if op.masks else None
    mine = None
    if group is not None:  # the rows of the group's shards only
        mine = shards.of_group(len(layout), group)
        inputs = {int(i) for s in mine for c in layout[s] for i in plan.chunks[c]}
        rows = [r for r in range(len(names)) if r % n in inputs]
    else:
        rows = list(range(len(names)))
    ops = Counter(op.row_op(plan.row(r)) if r < len(plan) and plan.mixed[r] else NONE for r in rows)
    work = Work(job=job, plan=plan, files=ds.files, outputs=[], masks=None, stop=threading.Event())
    chunk_of = {int(i): c for c, chunk in enumerate(plan.chunks) for i in chunk}
    by_row: dict = {}
    first = []  # the first DRY_ROWS output rows not dropped by --skip-bad, painting their chunks as needed
    for r in rows:
        if len(first) == DRY_ROWS:
            break
        if r not in by_row:
            res = paint_chunk(work, chunk_of[r % n], lambda *_: None)
            by_row.update(zip(res.rows, zip(res.op, res.sources, res.weights, res.boxes, res.mask, res.error)))
        if not by_row[r][5]:
            first.append(r)
    table = Table(job, ds, [names[r] for r in first], masks and [masks[r] for r in first], [by_row[r] for r in first])
    if job.out_format == "webdataset":
        from . import webdataset

        kept = [first[k] for k in table.kept]
        webdataset.rename(table, webdataset.tars_of(kept, layout, plan.chunks, n, job.outputs_per_input, job.samples_per_tar))
    return {
        "dry_run": True, "rows": len(rows), **{name: ops[name] for name in (*REGISTRY, NONE)},
        "out": str(job.out), "csv": str(job.out / CSV_NAME) if group is None else None,
        **({"group": list(group), "shards": mine} if group is not None else {}),
        "classes": [str(c) for c in ds.classes], "first_rows": table.csv_text(), "seconds": round(seconds, 3),
    }


def _apply(work: Work, pending: dict, on_done, progress: bool) -> None:
    """Run the chunks of the shards in `pending` (shard -> its chunk ids) on job.n_workers threads,
    but those their journals hold; journal each chunk as it finishes, and hand each shard's
    results to on_done(shard, results) once all its chunks are in."""
    import cv2
    from tqdm import tqdm

    cv2.setNumThreads(1)  # the pool is the parallelism; cv2's own threads would oversubscribe
    job, plan = work.job, work.plan
    if np.count_nonzero(plan.mixed) >= ops.WORTH_LOADING:
        ops.try_load_kernels()  # before the pool: loading beside busy workers costs them more
    shard_of = {c: s for s, chunks in pending.items() for c in chunks}
    results = {s: state.journal(job.out, s) for s in pending}
    left = {s: len(pending[s]) - len(results[s]) for s in pending}
    for s in [s for s in pending if left[s] == 0]:  # killed between its last chunk and its stats
        on_done(s, results.pop(s))
    finished = {r.chunk for rs in results.values() for r in rs}
    todo = iter([c for s in sorted(pending) for c in pending[s] if c not in finished])
    per_input = job.outputs_per_input
    total = per_input * sum(len(plan.chunks[c]) for c in shard_of)
    rows_done = per_input * sum(len(plan.chunks[r.chunk]) for rs in results.values() for r in rs)
    bar = tqdm(total=total, initial=rows_done, file=sys.stderr, disable=None if progress else True, unit="img", leave=False)
    in_flight: set = set()

    def collect(futures) -> None:
        nonlocal rows_done
        for future in futures:
            result = future.result()
            s = shard_of[result.chunk]
            state.append(job.out, s, result)
            results[s].append(result)
            left[s] -= 1
            rows_done += len(result.rows)
            bar.update(len(result.rows))
            if left[s] == 0:
                on_done(s, results.pop(s))

    with bar, ThreadPoolExecutor(job.n_workers) as pool:
        try:
            while True:
                for chunk in todo:
                    in_flight.add(pool.submit(run_chunk, work, chunk))
                    if len(in_flight) >= 2 * job.n_workers:
                        break
                if not in_flight:
                    break
                finished_now, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                collect(finished_now)
        except BaseException as e:
            work.stop.set()
            for future in in_flight:
                future.cancel()
            wait(in_flight)
            # Keep what finished while stopping: a resume need not redo it.
            collect(f for f in in_flight if f.done() and not f.cancelled() and f.exception() is None)
            if isinstance(e, (KeyboardInterrupt, Interrupted)):
                raise RunInterrupted(f"interrupted after {rows_done} of {total} rows; rerun the same command with --resume to finish") from None
            raise


def _table_counts(out: Path) -> dict:
    """Rows per op and the skipped images, read back from the written tables."""
    import pandas as pd

    with (out / CSV_NAME).open("rb") as f:
        table = pd.read_csv(f, usecols=["op"], keep_default_na=False)
    skipped = []
    if (out / SKIPPED_NAME).is_file():
        with (out / SKIPPED_NAME).open("rb") as f:
            skipped = pd.read_csv(f, keep_default_na=False).image.tolist()
    return {"rows": len(table), **{op: int((table.op == op).sum()) for op in (*REGISTRY, NONE)}, "skipped": len(skipped), "skipped_images": skipped}


def _group_summary(job: Job, layout: list, mine: list[int], group: tuple[int, int], seconds: float) -> dict:
    """What a shard group wrote (its shards' stats), and how many shards of the run are done."""
    stats = [state.shard_stats(job.out, s) for s in mine]
    skipped = sorted(tuple(x) for st in stats for x in st["skipped"])
    return {
        "rows": sum(st["rows"] for st in stats), **{op: sum(st["ops"].get(op, 0) for st in stats) for op in (*REGISTRY, NONE)},
        "skipped": len(skipped), "skipped_images": [image for _, image, _ in skipped],
        "out": str(job.out), "csv": None, "group": list(group), "shards": mine,
        "missing": shards.missing(job.out, len(layout)), "workers": job.n_workers, "kernels": ops.active(),
        "decoders": imageio.decoded(),
        "seconds": round(seconds, 3),
    }


def _summary(job: Job, ds: Dataset, seconds: float) -> dict:
    """Counts read back from the written tables (so a finished resume reports the same)."""
    return {
        **_table_counts(job.out), "out": str(job.out), "csv": str(job.out / CSV_NAME), "classes": len(ds.classes),
        "workers": job.n_workers, "kernels": ops.active(),
        "decoders": imageio.decoded(),
        "seconds": round(seconds, 3), "ignored_columns": ds.ignored_columns,
    }

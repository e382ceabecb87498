"""The run: read the dataset, draw the plan, stream its chunks through worker threads, write OUT.

Decoding, the kernels and encoding all release the GIL, so a thread pool keeps every core
busy. At most two chunks per worker are queued, so memory does not grow with the dataset.
"""

import os
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numpy as np

from . import imageio, ops, state
from .config import Job
from .dataset import Dataset, load_dataset
from .errors import MixcliError
from .imageio import FORMATS
from .mixing import ChunkResult, Interrupted, Work, paint_chunk, run_chunk
from .operations import NONE, REGISTRY
from .plan import make_plan
from .table import gather, output_table, skipped_table
from .writer import check_out, mask_names, output_names, prepare_out, remove_temporaries, remove_unlisted, write_atomic

CSV_NAME = "train.csv"
SKIPPED_NAME = "skipped.csv"
DRY_ROWS = 5  # rows of train.csv a dry run shows


class RunInterrupted(MixcliError):
    """Ctrl-C or SIGTERM: finished work is kept and the run can be resumed."""

    exit_code = 130


def run(job: Job, progress: bool = True) -> dict:
    """Do the whole job; return a summary. Raises MixcliError on bad input."""
    start = time.perf_counter()
    job.validate()
    imageio.reset_decoded()
    ds = load_dataset(**job.dataset_options())
    try:
        plan = make_plan(len(ds), job.operation, job.params, job.prob, job.seed, job.copies)
    except ValueError as e:
        raise MixcliError(str(e)) from None
    resuming = job.resume and state.has_run(job.out)
    if job.resume and not resuming and job.out.is_dir() and any(job.out.iterdir()):
        raise MixcliError(f"nothing to resume in {job.out}: it holds no unfinished mixcli run")
    if job.dry_run:
        check_out(job.out, ds.inputs, reuse=job.overwrite or resuming)
        if resuming:
            state.check(job.out, state.run_record(job, ds.digest, len(ds)))
        return _dry_run(job, ds, plan, time.perf_counter() - start)
    prepare_out(job.out, ds.inputs, reuse=job.overwrite or resuming, masks=job.operation.masks)
    remove_temporaries(job.out)
    record = state.run_record(job, ds.digest, len(ds))
    if resuming:
        done = state.resume(job.out, record)
    else:
        for name in (CSV_NAME, SKIPPED_NAME):  # a stale table must never describe new images
            (job.out / name).unlink(missing_ok=True)
        state.start(job.out, record)
        done = []
    removed = 0
    if done is not None:  # None: resuming a run that had already finished
        names = output_names(ds.images, FORMATS[job.fmt], job.copies, job.keep_originals)
        masks = mask_names(names) if job.operation.masks else None
        work = Work(
            job=job, plan=plan, files=ds.files, outputs=[job.out / n for n in names],
            masks=[job.out / n for n in masks] if masks else None, stop=threading.Event(),
            folder_of=_folder_of(job, ds) if job.out_layout == "folders" else None,
        )
        results = _apply(work, done, progress)
        listed = _write_tables(job, ds, names, masks, results)
        if job.overwrite or resuming:  # files of an earlier run; a new run starts in an empty OUT
            removed = remove_unlisted(job.out, listed)
        state.finish(job.out)
    return {**_summary(job, ds, time.perf_counter() - start), "removed": removed}


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
    from .labels import row_label, smooth
    from .writer import label_folder

    targets = smooth(ds.targets, job.label_smoothing)
    return lambda sources, weights: label_folder(row_label(targets, ds.classes, sources, weights, job.label_sep))


def _dry_run(job: Job, ds: Dataset, plan, seconds: float) -> dict:
    """What the run would write, nothing written: rows per op from the plan, and the first
    DRY_ROWS rows of train.csv from painting (in memory) the chunks that hold them."""
    from collections import Counter

    op = job.operation
    names = output_names(ds.images, FORMATS[job.fmt], job.copies, job.keep_originals)
    masks = mask_names(names) if op.masks else None
    ops = Counter(op.row_op(plan.row(r)) if plan.mixed[r] else NONE for r in range(len(plan)))
    ops[NONE] += len(ds) if job.keep_originals else 0
    work = Work(job=job, plan=plan, files=ds.files, outputs=[], masks=None, stop=threading.Event())
    chunk_of = {int(i): c for c, rows in enumerate(plan.chunks) for i in rows}
    by_row: dict = {}
    first = []  # the first DRY_ROWS output rows not dropped by --skip-bad, painting their chunks as needed
    for r in range(len(names)):
        if len(first) == DRY_ROWS:
            break
        if r not in by_row:
            res = paint_chunk(work, chunk_of[r % len(ds)], lambda *_: None)
            by_row.update(zip(res.rows, zip(res.op, res.sources, res.weights, res.boxes, res.mask, res.error)))
        if not by_row[r][5]:
            first.append(r)
    table = output_table(job, ds, [names[r] for r in first], masks and [masks[r] for r in first], [by_row[r] for r in first])
    return {
        "dry_run": True, "rows": len(names), **{name: ops[name] for name in (*REGISTRY, NONE)},
        "out": str(job.out), "csv": str(job.out / CSV_NAME), "classes": [str(c) for c in ds.classes],
        "first_rows": table.to_csv(index=False, lineterminator="\n"), "seconds": round(seconds, 3),
    }


def _apply(work: Work, done: list[ChunkResult], progress: bool) -> list[ChunkResult]:
    """Run the chunks not in `done` on job.n_workers threads; journal each as it finishes."""
    import cv2
    from tqdm import tqdm

    cv2.setNumThreads(1)  # the pool is the parallelism; cv2's own threads would oversubscribe
    job = work.job
    if np.count_nonzero(work.plan.mixed) >= ops.WORTH_LOADING:
        ops.try_load_kernels()  # before the pool: loading beside busy workers costs them more
    results = list(done)
    finished = {r.chunk for r in done}
    todo = iter([c for c in range(len(work.plan.chunks)) if c not in finished])
    rows_done = sum(len(r.rows) for r in done)
    bar = tqdm(total=len(work.outputs), initial=rows_done, file=sys.stderr, disable=None if progress else True, unit="img", leave=False)
    pending: set = set()

    def collect(futures) -> None:
        for future in futures:
            result = future.result()
            state.append(job.out, result)
            results.append(result)
            bar.update(len(result.rows))

    with bar, ThreadPoolExecutor(job.n_workers) as pool:
        try:
            while True:
                for chunk in todo:
                    pending.add(pool.submit(run_chunk, work, chunk))
                    if len(pending) >= 2 * job.n_workers:
                        break
                if not pending:
                    break
                finished_now, pending = wait(pending, return_when=FIRST_COMPLETED)
                collect(finished_now)
        except BaseException as e:
            work.stop.set()
            for future in pending:
                future.cancel()
            wait(pending)
            # Keep what finished while stopping: a resume need not redo it.
            collect(f for f in pending if f.done() and not f.cancelled() and f.exception() is None)
            if isinstance(e, (KeyboardInterrupt, Interrupted)):
                rows = sum(len(r.rows) for r in results)
                raise RunInterrupted(f"interrupted after {rows} of {len(work.outputs)} rows; rerun the same command with --resume to finish") from None
            raise
    return results


def _write_tables(job: Job, ds: Dataset, names: list[str], masks: list[str] | None, results: list[ChunkResult]) -> list[str]:
    """skipped.csv (if any row was skipped), then train.csv: the last file written. Return the
    files train.csv lists (images and masks, relative to OUT)."""
    rows = gather(len(names), results)
    table, skipped = output_table(job, ds, names, masks, rows), skipped_table(ds, rows)
    if len(skipped):
        write_atomic(job.out / SKIPPED_NAME, skipped.to_csv(index=False, lineterminator="\n").encode())
    write_atomic(job.out / CSV_NAME, table.to_csv(index=False, lineterminator="\n").encode())
    return table["image"].tolist() + [m for m in table["mask"] if m]


def _summary(job: Job, ds: Dataset, seconds: float) -> dict:
    """Counts read back from the written tables (so a finished resume reports the same)."""
    import pandas as pd

    table = pd.read_csv(job.out / CSV_NAME, usecols=["op"], keep_default_na=False)
    skipped_csv = job.out / SKIPPED_NAME
    skipped = pd.read_csv(skipped_csv, keep_default_na=False).image.tolist() if skipped_csv.is_file() else []
    counts = {op: int((table.op == op).sum()) for op in (*REGISTRY, NONE)}
    return {
        "rows": len(table), **counts, "skipped": len(skipped), "skipped_images": skipped,
        "out": str(job.out), "csv": str(job.out / CSV_NAME), "classes": len(ds.classes),
        "workers": job.n_workers, "kernels": ops.active(),
        "decoders": {f"{name} {imageio.decoder_versions()[name]}": n for name, n in imageio.decoded().items()}, "seconds": round(seconds, 3),
        "ignored_columns": ds.ignored_columns,
    }

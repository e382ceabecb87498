"""The run, in phases: prepare (everything worked out, nothing written) -> a dry run, or open OUT
(start, resume or join) -> execute the shards to do (the local executor's threads, or Ray
tasks) -> finish (merge train.csv, or report a shard group). Each phase is a module."""

import os
import time

from ..job import Job
from ..pixels.codec import reset_decoded
from . import local, ray_tasks
from .dryrun import dry_run
from .finish import finish
from .finish import merge as merge
from .opening import open_out
from .prepare import prepare

EXECUTORS = {"local": local, "ray": ray_tasks}  # each: connected(job), execute(prep, shards, progress)


def run(job: Job, progress: bool = True) -> dict:
    """Do the whole job, or its shard group; return a summary. Raises MixcliError on bad input."""
    start = time.perf_counter()
    reset_decoded()
    job.validate()
    if job.dry_run:
        return dry_run(prepare(job), start)
    executor = EXECUTORS[job.distributor]
    with executor.connected(job):  # before the data is read and OUT touched: an unreachable Ray fails fast
        prep = prepare(job)
        opened = open_out(prep)
        if opened.todo:
            executor.execute(prep, opened.todo, progress)
        return finish(prep, opened, start)


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

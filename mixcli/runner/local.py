"""The local executor: the chunks of a run's shards on a pool of threads, each shard finished
(its tars, its part of train.csv, its stats) once its last chunk is in.

Decoding, the kernels and encoding all release the GIL, so a thread pool keeps every core
busy. At most two chunks per worker are queued, so memory does not grow with the dataset.
A Ray task runs its shard through run_shards too.
"""

import contextlib
import sys
import threading
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numpy as np

from ..data.table import skipped_rows
from ..errors import MixcliError
from ..pixels import checked
from ..pixels.codec import one_thread
from ..records import ChunkResult, ShardStats, by_row
from .chunk import Interrupted, run_chunk


class RunInterrupted(MixcliError):
    """Ctrl-C or SIGTERM: finished work is kept and the run can be resumed."""

    exit_code = 130


def run_shards(prep, shards: list[int], threads: int, progress: bool) -> None:
    """Run these shards' chunks (but those their journals hold) on `threads` threads; journal each
    chunk as it finishes, and finish each shard once all its chunks are in."""
    from tqdm import tqdm

    one_thread()
    plan, state = prep.plan, prep.out.state
    if np.count_nonzero(plan.mixed) >= checked.WORTH_LOADING:
        checked.try_load_kernels()  # before the pool: loading beside busy workers costs them more
    pending = {s: prep.layout[s] for s in shards}
    shard_of = {c: s for s, chunks in pending.items() for c in chunks}
    results = {s: state.journal(s) for s in pending}
    left = {s: len(pending[s]) - len(results[s]) for s in pending}
    finished = {r.chunk for rs in results.values() for r in rs}  # before the next lines pop shards' results
    for s in [s for s in pending if left[s] == 0]:  # killed between its last chunk and its stats
        finish_shard(prep, s, results.pop(s))
    todo = iter([c for s in sorted(pending) for c in pending[s] if c not in finished])
    per_input = prep.job.outputs_per_input
    total = per_input * sum(len(plan.chunks[c]) for c in shard_of)
    rows_done = per_input * sum(len(plan.chunks[c]) for c in finished)
    bar = tqdm(total=total, initial=rows_done, file=sys.stderr, disable=None if progress else True, unit="img", leave=False)
    stop = threading.Event()
    in_flight: set = set()

    def collect(futures) -> None:
        nonlocal rows_done
        for future in futures:
            result = future.result()
            s = shard_of[result.chunk]
            state.append(s, result)
            results[s].append(result)
            left[s] -= 1
            rows_done += len(result.rows)
            bar.update(len(result.rows))
            if left[s] == 0:
                finish_shard(prep, s, results.pop(s))

    with bar, ThreadPoolExecutor(threads) as pool:
        try:
            while True:
                for chunk in todo:
                    in_flight.add(pool.submit(run_chunk, prep, chunk, stop))
                    if len(in_flight) >= 2 * threads:
                        break
                if not in_flight:
                    break
                finished_now, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                collect(finished_now)
        except BaseException as e:
            stop.set()
            for future in in_flight:
                future.cancel()
            wait(in_flight)
            # Keep what finished while stopping: a resume need not redo it.
            collect(f for f in in_flight if f.done() and not f.cancelled() and f.exception() is None)
            if isinstance(e, (KeyboardInterrupt, Interrupted)):
                raise RunInterrupted(f"interrupted after {rows_done} of {total} rows; rerun the same command with --resume to finish") from None
            raise


def finish_shard(prep, s: int, results: list[ChunkResult]) -> None:
    """Shard s's chunks are all written: its tars (webdataset), its part of train.csv and its stats."""
    rows, row_results = by_row(results)
    table = prep.table(row_results, rows)
    written = [rows[k] for k in table.kept]
    staged = prep.format.pack(prep, s, table, written)
    stats = ShardStats(
        shard=s, rows=len(table), ops=dict(Counter(table.ops)), objects=sum(len(o) for o in table.objects), dropped=sum(r.dropped for r in row_results),
        skipped=[[i, image, error] for i, image, error in skipped_rows(prep.ds, row_results)],
        seconds=round(sum(r.seconds for r in results), 3),
    )
    prep.out.state.finish_shard(s, lambda text: table.write(text, written), stats, prep.objects_part(table, written))
    prep.out.store.delete(staged)  # packed: after the stats, so a shard killed before them packs again


@contextlib.contextmanager
def connected(job):
    """Nothing to reach: the threads are this process's."""
    yield


def execute(prep, shards: list[int], progress: bool) -> None:
    """Run these shards of a prepared run here, on --workers threads."""
    run_shards(prep, shards, prep.job.n_workers, progress)

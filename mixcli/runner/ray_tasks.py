"""The Ray executor (--distributor ray, pip install 'mixcli[ray]'): a run's shards as Ray tasks.

Each task prepares the run again and runs one shard through the local executor, on whichever
node Ray picks, with --workers threads (default 1 under Ray) and as many of Ray's CPUs
reserved; OUT must be reachable from every node. Ray retries a task whose worker died
(max_retries); an error in the data fails the run as it would locally. The shards write what
they would write anywhere, so the result is the bytes of a local run.
"""

import contextlib
import logging
import os
import socket
import sys
from dataclasses import replace

from ..errors import MixcliError, UsageError
from ..store import open_store
from .local import run_shards
from .opening import open_out
from .prepare import prepare

RETRIES = 3


@contextlib.contextmanager
def connected(job):
    """Ray for the run, before OUT is touched: job.ray_address (else RAY_ADDRESS, else a Ray already
    initialised in this process, else a local Ray on 127.0.0.1 started here and shut down after)."""
    try:
        import ray
    except ImportError:
        raise MixcliError("--distributor ray needs Ray: pip install 'mixcli[ray]'") from None
    started = False
    if not ray.is_initialized():
        address = job.ray_address or os.environ.get("RAY_ADDRESS")
        try:
            if address:
                _reachable(address)
                ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
            else:  # a local Ray, on the loopback interface only
                os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
                ray.init(include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False, logging_level=logging.ERROR)
        except MixcliError:
            raise
        except Exception as e:  # noqa: BLE001 (Ray raises ConnectionError, RuntimeError, ValueError, ...)
            raise MixcliError(f"cannot start or reach Ray{f' at {address}' if address else ''}: {str(e).splitlines()[0]}") from None
        started = True
    try:
        most = max((node.get("Resources", {}).get("CPU", 0) for node in ray.nodes() if node.get("Alive")), default=0)
        if _threads(job) > most:
            raise UsageError(f"--workers {job.workers} is more than the {most:g} CPUs of Ray's largest node: a task could never start")
        yield
    finally:
        if started:
            ray.shutdown()


def _reachable(address: str) -> None:
    """Fail fast (10 s) on a host:port nobody answers at: ray.init would wait for minutes."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as e:
        raise MixcliError(f"cannot reach Ray at {address}: {e.strerror or e}") from None


def execute(prep, shards: list[int], progress: bool) -> None:
    """Run these shards of a prepared run as Ray tasks on the Ray of `connected`."""
    import ray
    from tqdm import tqdm

    job = prep.job
    # What every task runs: one shard as a group, places absolute (a worker's directory is not ours),
    # the images where this process found them (a task does not look for them again).
    places = {k: _absolute(getattr(job, k)) for k in ("data", "out", "csv", "annotations", "label_maps") if getattr(job, k) is not None}
    if prep.ds.objects is None:  # a detection layout's images are where its layout says
        places["image_dir"] = prep.ds.root.absolute().where()
    base = replace(
        job, **places, workers=_threads(job), distributor="local",
        overwrite=False, resume=False, shards=None,
    )
    task = ray.remote(_task).options(num_cpus=base.workers, max_retries=RETRIES)
    refs: dict = {}
    try:
        refs = {task.remote(replace(base, shard_index=s, num_shards=len(prep.layout))): s for s in shards}
        with tqdm(total=len(refs), file=sys.stderr, disable=None if progress else True, unit="shard", leave=False) as bar:
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                for ref in done:
                    refs.pop(ref)
                    try:
                        ray.get(ref)
                    except ray.exceptions.RayTaskError as e:
                        cause = getattr(e, "cause", None)
                        raise cause if isinstance(cause, MixcliError) else MixcliError(f"a Ray task failed: {str(e).strip().splitlines()[-1]}") from None
                    except ray.exceptions.RayError as e:
                        raise MixcliError(f"a Ray task failed: {str(e).strip().splitlines()[0]}") from None
                    bar.update(1)
    except BaseException:
        for ref in refs:
            ray.cancel(ref, force=True)
        raise


def _threads(job) -> int:
    """The threads of a task: --workers, 1 by default (Ray runs several tasks a node)."""
    return job.workers or 1


def _absolute(place: str) -> str:
    return open_store(place).absolute().where()


def _task(job) -> None:
    """One Ray task: one shard, as a shard group of one (done already if a task ran it before)."""
    prep = prepare(job, files_found=True)
    todo = open_out(prep).todo
    if todo:
        run_shards(prep, todo, job.workers, progress=False)

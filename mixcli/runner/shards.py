"""Shards: fixed groups of the plan's chunks, so that one run can be spread over many processes.

A shard is --shard-size input rows' worth of consecutive chunks of the seeded plan. The plan
alone says what every chunk writes, so the output depends neither on the shard size nor on
where, when or how often a shard ran. Shard group I of N is the shards s with s % N == I; the
group comes from the options, else from the environment (a Slurm array, srun's tasks, a
Kubernetes Indexed Job).
"""

import os

from ..errors import UsageError
from ..plan import CHUNK


def layout(chunks: int, shard_size: int) -> list[range]:
    """The chunk ids of each shard."""
    per = shard_size // CHUNK
    return [range(i, min(i + per, chunks)) for i in range(0, chunks, per)]


def of_job(job, env=os.environ) -> tuple[int, int] | None:
    """The job's shard group: from --shards (I/N, or all), else as group() finds it."""
    return group(*(job.shards or (job.shard_index, job.num_shards)), env)


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


def of_group(shards: int, group: tuple[int, int] | None) -> list[int]:
    """The shards of group (I, N): those s with s % N == I; None: all."""
    return [s for s in range(shards) if group is None or s % group[1] == group[0]]

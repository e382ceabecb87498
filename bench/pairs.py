"""Two contenders timed in turn on two sizes of one workload (ray_overhead.py, s3_overhead.py):
the order alternates from one repetition to the next, per-image cost is the slope between the
sizes (start-up apart), and medians are reported."""

import statistics
import subprocess
import time


def alternate(contenders: dict, sizes: list[int], reps: int, clear, **run_options) -> dict:
    """(contender, size) -> wall seconds of each repetition of `contenders[c](n)` (a command),
    clear(c) called before each run; run_options go to subprocess.run."""
    runs: dict = {}
    for rep in range(reps):
        for n in sizes:
            for c in (list(contenders) if rep % 2 == 0 else list(contenders)[::-1]):
                clear(c)
                start = time.perf_counter()
                subprocess.run(contenders[c](n), check=True, **run_options)
                runs.setdefault((c, n), []).append(time.perf_counter() - start)
                print(f"rep {rep + 1}/{reps} n={n:<5} {c:<20} {runs[c, n][-1]:6.2f} s", flush=True)
    return runs


def slopes(runs: dict, contenders, sizes: list[int]) -> tuple[dict, dict]:
    """(medians by (contender, size), per-image ms by contender), each contender's line printed."""
    n0, n1 = sizes
    med = {k: statistics.median(v) for k, v in runs.items()}
    slope = {c: (med[c, n1] - med[c, n0]) / (n1 - n0) * 1e3 for c in contenders}
    for c in contenders:
        print(f"  {c:<20} {med[c, n0]:6.2f} s on {n0}, {med[c, n1]:6.2f} s on {n1}, per image {slope[c]:.3f} ms")
    return med, slope

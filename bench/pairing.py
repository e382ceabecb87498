#!/usr/bin/env python3
"""What class-aware pairing costs: `mixcli OP DATA OUT --pairing P` against `--pairing random`.

    python bench/pairing.py                       # mixup and mosaic, 200/1000 photos, 3 reps, 1 worker
    python bench/pairing.py --ops cutmix --reps 5 --workers 2

Workload (a): the 500x375 JPEGs of bench/corpus/ (make_corpus.py; 4 classes). random takes a
row's partners from its cycle of 16 rows, each image decoded once; cross-class and balanced draw
them from the whole dataset, so the chunk decodes each partner too (about one more decode per
partner). The contenders alternate within each repetition, each run with the corpus read into the
page cache first; per-image cost is the slope between the two sizes (start-up apart), of wall and
of CPU time (user + sys of the child); reported as medians and as the median paired ratio to random.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from make_corpus import ensure_corpus  # bench/ is on the path of a script run from it
from run import warm_page_cache

HERE = Path(__file__).resolve().parent
PAIRINGS = ["random", "cross-class", "balanced"]


def one_run(op: str, data: Path, out: Path, pairing: str, workers: int) -> tuple[float, float]:
    """(wall, CPU) seconds of one run."""
    shutil.rmtree(out, ignore_errors=True)
    warm_page_cache(data)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "mixcli", op, str(data), str(out), "--seed", "0", "--workers", str(workers), "-q", "--pairing", pairing]
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.sync()
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", nargs="+", default=["mixup", "mosaic"])
    ap.add_argument("--sizes", type=int, nargs=2, default=[200, 1000])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("/tmp/mixcli_pairing_bench"))
    args = ap.parse_args()
    small, large = (ensure_corpus("a", n) for n in args.sizes)
    load = os.getloadavg()[0]
    print(f"Pairing benchmark {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"sizes {args.sizes}, {args.reps} reps, --workers {args.workers}; load average {load:.2f} at start")
    results = {}
    for op in args.ops:
        slopes: dict[str, list[tuple[float, float]]] = {p: [] for p in PAIRINGS}
        for rep in range(args.reps):
            order = PAIRINGS if rep % 2 == 0 else PAIRINGS[::-1]
            for p in order:
                a = one_run(op, small, args.work / "out", p, args.workers)
                b = one_run(op, large, args.work / "out", p, args.workers)
                n = args.sizes[1] - args.sizes[0]
                slopes[p].append(((b[0] - a[0]) / n * 1e3, (b[1] - a[1]) / n * 1e3))
        for p in PAIRINGS:
            wall = [s[0] for s in slopes[p]]
            cpu = [s[1] for s in slopes[p]]
            ratio = [s[0] / r[0] for s, r in zip(slopes[p], slopes["random"])]
            ratio_cpu = [s[1] / r[1] for s, r in zip(slopes[p], slopes["random"])]
            print(f"{op:8s} {p:12s} ms/image wall {statistics.median(wall):6.2f} (min {min(wall):.2f}, max {max(wall):.2f})  "
                  f"CPU {statistics.median(cpu):6.2f}   / random: wall {statistics.median(ratio):.2f}x "
                  f"({min(ratio):.2f}-{max(ratio):.2f}), CPU {statistics.median(ratio_cpu):.2f}x ({min(ratio_cpu):.2f}-{max(ratio_cpu):.2f})")
        results[op] = slopes
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    runs = HERE / "runs"
    runs.mkdir(exist_ok=True)
    (runs / f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-pairing.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "slopes_ms": results}, indent=1))


if __name__ == "__main__":
    main()

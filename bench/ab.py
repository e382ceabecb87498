#!/usr/bin/env python3
"""A/B: mixcli from this checkout against mixcli from another source tree, one operation at a time.

    git archive 69a9506 mixcli | tar -x -C /tmp/old_src
    python bench/ab.py --old /tmp/old_src                        # every operation, (a) 1000/3000, 5 reps
    python bench/ab.py --old /tmp/old_src --ops cutmix --workload c --sizes 100 400

For each operation the two trees run in turn (the order alternating from one repetition to the
next), each run with the corpus read into the page cache first and `sync` after, as bench/run.py
does. Per-image cost is the slope between the two sizes (start-up apart), of wall time and of
CPU time (user + sys of the child: far less sensitive to other load on a shared machine);
reported as medians and as the median of the repetitions' paired ratios (new / old).
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from run import warm_page_cache  # bench/ is on the path of a script run from it

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OPS = ["mixup", "cutmix", "mix", "resizemix", "mosaic", "fmix", "cutout"]


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, cwd="/")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", type=Path, required=True, help="a source folder holding the other mixcli/")
    ap.add_argument("--ops", nargs="+", default=OPS)
    ap.add_argument("--workload", choices=["a", "c"], default="a", help="a: 500x375 photos; c: 2016x1512 photos (corpus kind b)")
    ap.add_argument("--sizes", type=int, nargs=2, default=None, help="[a: 1000 3000; c: 100 400]")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="write the raw timings here")
    args = ap.parse_args(argv)
    sizes = args.sizes or ([1000, 3000] if args.workload == "a" else [100, 400])
    kind = "a" if args.workload == "a" else "b"
    made = subprocess.run([sys.executable, str(HERE / "make_corpus.py"), kind, *map(str, sizes)], stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()
    data = {n: Path(line.split("\t")[0]) for n, line in zip(sizes, made)}
    trees = {"new": REPO, "old": args.old.resolve()}
    for tree in trees.values():  # what pip install does; this machine may set PYTHONDONTWRITEBYTECODE
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "mixcli")], check=True, stdout=subprocess.DEVNULL)
    envs = {name: dict(os.environ, PYTHONPATH=str(tree)) for name, tree in trees.items()}
    out = Path("/tmp/mixcli_ab")

    def command(op: str, name: str, n: int) -> list[str]:
        extra = ["--alpha", "0.2"] if op == "mixup" else []
        return [sys.executable, "-m", "mixcli", op, str(data[n]), str(out / name), "--quiet", "--overwrite", "--workers", str(args.workers), *extra]

    runs: dict = {}
    for op in args.ops:
        for name in trees:  # warm-up: numba's cache, imports
            timed(command(op, name, sizes[0]), envs[name])
        for rep in range(args.reps):
            for n in sizes:
                for name in (list(trees) if rep % 2 == 0 else list(trees)[::-1]):
                    shutil.rmtree(out / name, ignore_errors=True)
                    warm_page_cache(data[n])
                    subprocess.run(["sync"], check=False)
                    runs.setdefault(f"{op} {name} {n}", []).append(timed(command(op, name, n), envs[name]))
                    wall, cpu = runs[f"{op} {name} {n}"][-1]
                    print(f"{op:<10} rep {rep + 1}/{args.reps} n={n:<5} {name}  {wall:6.2f} s wall, {cpu:6.2f} s CPU", flush=True)
    shutil.rmtree(out, ignore_errors=True)

    n0, n1 = sizes
    print(f"\n{os.cpu_count()} cores, --workers {args.workers}, workload ({args.workload}) {n0} -> {n1} photos, {args.reps} repetitions")
    print("\n| operation | wall ms/image new | old | new / old (paired) | CPU ms/image new | old | new / old (paired) |")
    print("|---|---|---|---|---|---|---|")
    for op in args.ops:
        cells = []
        for k in (0, 1):  # wall, CPU
            per = {name: [(b[k] - a[k]) / (n1 - n0) * 1e3 for a, b in zip(runs[f"{op} {name} {n0}"], runs[f"{op} {name} {n1}"])] for name in trees}
            med = {name: statistics.median(v) for name, v in per.items()}
            paired = statistics.median(a / b for a, b in zip(per["new"], per["old"]))
            cells += [f"{med['new']:.3f}", f"{med['old']:.3f}", f"{med['new'] / med['old']:.2f}x ({paired:.2f}x)"]
        print(f"| {op} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"sizes": sizes, "workers": args.workers, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

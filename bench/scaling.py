#!/usr/bin/env python3
"""How mixcli and the floor scale with --workers, on workload (a) (500x375 photos) or (c).

    python bench/scaling.py                          # 1000/3000 photos, workers 1 2 4 8 16, 3 reps
    python bench/scaling.py --sizes 100 300 --workers 1 2 --reps 1 --ops mixup mosaic
    python bench/scaling.py --workload c --sizes 100 400 --ops cutmix --rev old=/path/to/src

For each worker count, per-image cost is the slope between the two sizes (start-up apart) and
the speed-up is the 1-worker slope over it; contenders alternate within each repetition and
medians are reported. mixcli runs from this checkout (`python -m mixcli`, PYTHONPATH set, from /
so that no other checkout shadows it), so it needs no install where numpy, OpenCV, numba, pandas,
Typer, tqdm and simplejpeg are present. --rev NAME=SRC adds the same operations run from another
source folder SRC (holding mixcli/), e.g. an earlier commit's `git archive REV mixcli | tar -x -C SRC`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ENV = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def timed(cmd: list[str], env: dict = ENV) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, cwd="/")
    return time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs=2, default=[1000, 3000])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ops", nargs="+", default=["mixup"], help="mixcli operations to time (mixup with --alpha 0.2)")
    ap.add_argument("--workload", choices=["a", "c"], default="a", help="a: 500x375 photos; c: 2016x1512 photos (corpus kind b)")
    ap.add_argument("--rev", action="append", default=[], metavar="NAME=SRC", help="also run the ops from source folder SRC")
    ap.add_argument("--work", type=Path, default=Path("/tmp/mixcli_scaling"))
    ap.add_argument("--json", type=Path, default=None, help="write the raw timings here")
    args = ap.parse_args(argv)
    kind = "a" if args.workload == "a" else "b"
    made = subprocess.run([sys.executable, str(HERE / "make_corpus.py"), kind, *map(str, args.sizes)],
                          stdout=subprocess.PIPE, text=True, check=True, env=ENV).stdout.splitlines()
    data = {n: Path(line.split("\t")[0]) for n, line in zip(args.sizes, made)}  # one "path<TAB>description" a size
    out = args.work / "out"

    revs = dict(r.split("=", 1) for r in args.rev)
    envs = {op: ENV for op in args.ops}
    for name, src in revs.items():
        envs.update({f"{op}@{name}": dict(os.environ, PYTHONPATH=str(Path(src).resolve()) + os.pathsep + os.environ.get("PYTHONPATH", "")) for op in args.ops})

    def command(who: str, n: int, w: int) -> list[str]:
        if who == "floor":
            return [sys.executable, str(HERE / "baselines.py"), "floor", str(data[n]), str(out / who), "--workers", str(w)]
        op = who.split("@")[0]
        extra = ["--alpha", "0.2"] if op == "mixup" else []
        return [sys.executable, "-m", "mixcli", op, str(data[n]), str(out / who), "--quiet", "--overwrite", "--workers", str(w), *extra]

    contenders = ["floor", *envs]
    for who in contenders:  # warm-up: numba's cache, the page cache
        timed(command(who, args.sizes[0], max(args.workers)), envs.get(who, ENV))
    runs: dict = {}
    for rep in range(args.reps):
        for w in args.workers:
            for n in args.sizes:
                order = contenders if rep % 2 == 0 else contenders[::-1]
                for who in order:
                    runs.setdefault(f"{who} w{w} n{n}", []).append(timed(command(who, n, w), envs.get(who, ENV)))
                    print(f"rep {rep + 1}/{args.reps}  w{w:<3} n{n:<6} {who:<10} {runs[f'{who} w{w} n{n}'][-1]:7.2f} s", flush=True)
    n0, n1 = args.sizes
    med = {k: statistics.median(v) for k, v in runs.items()}

    def slope(who: str, w: int) -> float:
        return (med[f"{who} w{w} n{n1}"] - med[f"{who} w{w} n{n0}"]) / (n1 - n0) * 1e3

    print(f"\n{os.cpu_count()} cores; per-image cost (ms, slope {n0}->{n1}) and speed-up over 1 worker, median of {args.reps}\n")
    mixers = contenders[1:]
    print("| workers | " + " | ".join(f"{c} ms | {c} speed-up" for c in contenders) + " | " + " | ".join(f"{c} / floor" for c in mixers) + " |")
    print("|---" * (1 + 2 * len(contenders) + len(mixers)) + "|")
    for w in args.workers:
        cells = [f"{slope(c, w):.3f} | {slope(c, args.workers[0]) / slope(c, w):.2f}x" for c in contenders]
        ratios = [f"{slope(c, w) / slope('floor', w):.2f}x" for c in mixers]
        print(f"| {w} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    if args.json:
        args.json.write_text(json.dumps({"cores": os.cpu_count(), "sizes": args.sizes, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

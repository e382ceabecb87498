#!/usr/bin/env python3
"""Many classes, many rows: peak memory and the table's cost per row (issue 12).

    python bench/labels_memory.py                 # 100,000 rows x 1,000 classes, against 10 classes
    python bench/labels_memory.py --rows 20000

Builds DATA of `--rows` hard links to one tiny PNG (so decoding costs next to nothing) with a
train.csv of `--classes` classes, runs `mixcli mixup DATA OUT --format png` in both label
formats, and the same with 10 classes; reports the peak RSS of each run (ru_maxrss of the child)
and the table's cost per row: (time with many classes - time with 10) / rows. Medians of --reps.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from run import mixcli_cmd  # bench/ is on the path of a script run from it

PY = sys.executable
MIXCLI = mixcli_cmd()
WORK = Path("/tmp/mixcli_labels_bench")


def dataset(rows: int, classes: int) -> Path:
    data = WORK / f"d{rows}_{classes}"
    if (data / "train.csv").is_file():
        return data
    import cv2
    import numpy as np

    (data / "train").mkdir(parents=True, exist_ok=True)
    per = 60_000  # ext4 allows 65,000 links to a file
    originals = [data / f"one{j}.png" for j in range((rows + per - 1) // per)]
    for j, one in enumerate(originals):
        cv2.imwrite(str(one), np.random.default_rng(j).integers(0, 256, (8, 8, 3), dtype=np.uint8))
    for k in range(rows):
        os.link(originals[k // per], data / "train" / f"{k:07d}.png")
    for one in originals:
        one.unlink()
    with open(data / "train.csv", "w") as f:
        f.write("image,label\n")
        f.writelines(f"{k:07d}.png,c{k % classes}\n" for k in range(rows))
    return data


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    few = 10
    datas = {c: dataset(args.rows, c) for c in (few, args.classes)}
    res: dict = {}
    for rep in range(args.reps):
        for fmt in ("dense", "sparse"):
            for c in (few, args.classes):
                out = WORK / "out"
                shutil.rmtree(out, ignore_errors=True)
                res.setdefault((fmt, c), []).append(timed(MIXCLI + ["mixup", str(datas[c]), str(out), "--format", "png", "--label-format", fmt, "-q"]))
                print(f"rep {rep + 1} {fmt:6s} {c:5d} classes: {res[fmt, c][-1][0]:6.2f} s, {res[fmt, c][-1][1]:6.0f} MiB", flush=True)
    shutil.rmtree(WORK / "out", ignore_errors=True)
    print(f"\n{args.rows} rows, medians of {args.reps}:")
    for fmt in ("dense", "sparse"):
        t = {c: statistics.median(x[0] for x in res[fmt, c]) for c in (few, args.classes)}
        m = {c: statistics.median(x[1] for x in res[fmt, c]) for c in (few, args.classes)}
        per_row = (t[args.classes] - t[few]) / args.rows * 1e6
        print(f"  {fmt:6s}: {args.classes} classes {t[args.classes]:.2f} s, {m[args.classes]:.0f} MiB peak; "
              f"{few} classes {t[few]:.2f} s, {m[few]:.0f} MiB; table cost {per_row:.1f} us a row")
    return 0


if __name__ == "__main__":
    sys.exit(main())

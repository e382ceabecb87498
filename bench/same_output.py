#!/usr/bin/env python3
"""Same output as another source tree? Runs a matrix of mixcli commands (every operation and
format, --skip-bad, shard groups and merge, chaining, dry runs, bad options) with this checkout
and with another tree, and compares every file written (by digest), the exit codes and the
messages (seconds masked). For restructurings that must change no byte, message or exit code.

    git archive 69a9506 mixcli | tar -x -C /tmp/old_src
    python bench/same_output.py --old /tmp/old_src [--outputs-only]

Exits 1 and names each difference; a run that fails half-way (cutmix on a bad image without
--skip-bad) may leave another set of files from one run to the next (the threads' timing), so
its files are not compared, only its exit code and message.
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data"


def inputs(work: Path) -> dict[str, str]:
    """sample_data, a copy with a bad image, class folders, and a multi-label CSV."""
    bad, folders, multi = work / "bad", work / "folders", work / "multi"
    shutil.copytree(SAMPLE, bad)
    (bad / "train" / "cat_01.jpg").write_bytes(b"\xff\xd8\xff garbage")
    rows = (SAMPLE / "train.csv").read_text().splitlines()
    for line in rows[1:]:
        image, label = line.split(",")
        (folders / label).mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / "train" / image, folders / label / image)
    shutil.copytree(SAMPLE, multi)
    (multi / "train.csv").write_text(rows[0] + "\n" + "\n".join(f"{r}|{'cat' if k % 3 else 'rocket'}" for k, r in enumerate(rows[1:])) + "\n")
    return {"S": str(SAMPLE), "B": str(bad), "F": str(folders), "M": str(multi)}


# Each case: the commands run into one fresh OUT ({o}); DATA as S, B, F or M (see inputs).
CASES = [
    [["mixup", "S", "{o}", "--alpha", "0.2"]],
    [["mixup", "S", "{o}", "--format", "png", "--seed", "3", "--workers", "1"]],
    [["cutmix", "S", "{o}", "--prob", "0.5", "--size", "96x64"]],
    [["cutmix", "S", "{o}", "--minmax", "0.2", "0.6", "--no-correct-lam", "--label-smoothing", "0.1"]],
    [["mix", "S", "{o}", "--copies", "2", "--keep-originals", "--seed", "5"]],
    [["resizemix", "S", "{o}", "--scale-min", "0.2", "--scale-max", "0.5", "--format", "png", "--size", "80x80"]],
    [["mosaic", "S", "{o}", "--offset", "0.3", "0.6", "--label-format", "sparse"]],
    [["fmix", "S", "{o}", "--alpha", "0.5", "--decay-power", "2", "--out-layout", "folders"]],
    [["cutout", "S", "{o}", "--holes", "3", "--hole-size", "0.3", "--fill", "128"]],
    [["mixup", "S", "{o}", "--out-format", "webdataset", "--samples-per-tar", "7", "--copies", "2"]],
    [["fmix", "S", "{o}", "--out-format", "webdataset", "--samples-per-tar", "16", "--format", "png", "--size", "64x48"]],
    [["cutmix", "B", "{o}", "--skip-bad", "--shard-size", "16"]],
    [["mosaic", "B", "{o}", "--skip-bad", "--keep-originals", "--workers", "1"]],
    [["cutmix", "B", "{o}"]],  # fails half-way: files not compared
    [["mixup", "F", "{o}", "--layout", "folders"]],
    [["mixup", "M", "{o}", "--label-sep", "|"]],
    [["mixup", "S", "{o}", "--dry-run", "--json"]],
    [["mosaic", "S", "{o}", "--dry-run", "--shards", "1/3", "--shard-size", "16"]],
    [["mixup", "S", "{o}", "--alpha", "-1"]],
    [["mixup", "S", "{o}", "--size", "0x5"]],
    [["mixup", "S", "{o}", "--shards", "x"]],
    [["cutmix", "S", "{o}", "--minmax", "0.9", "0.2"]],
    [["mix", "S", "{o}", "--mixup-alpha", "0", "--cutmix-alpha", "0"]],
    [["mixup", "S", "{o}", "--resume", "--overwrite"]],
    [["mixup", "S", "{o}", "--out-format", "webdataset", "--out-layout", "folders"]],
    [["mixup", "S", "{o}", "--shard-size", "10"]],
    [["mixup", "/nonexistent", "{o}"]],
    [["mixup", "S", "ftp://x/y"]],
    [["cutmix", "S", "{o}", "--json", "-q", "--shard-size", "16", "--seed", "9"]],
    [  # shard groups in any order, then merge twice
        ["mix", "S", "{o}", "--shards", "1/2", "--shard-size", "16", "--seed", "2"],
        ["mix", "S", "{o}", "--shards", "0/2", "--shard-size", "16", "--seed", "2"],
        ["merge", "{o}"],
        ["merge", "{o}"],
    ],
    [  # chaining, then --overwrite of the first OUT
        ["mixup", "S", "{o}/one", "--seed", "4"],
        ["cutmix", "{o}/one", "{o}/two", "--seed", "4"],
        ["mixup", "S", "{o}/one", "--seed", "5", "--overwrite"],
    ],
]
TIMING = {13}  # cases whose files depend on the threads' timing


SKIP_STATE = False  # --outputs-only: OUT/.mixcli (the run's record: the version, the options known) is not compared


def digests(out: Path) -> dict:
    found = {}
    for p in sorted(out.rglob("*")) if out.is_dir() else []:
        if SKIP_STATE and ".mixcli" in p.relative_to(out).parts:
            continue
        if p.is_file():
            data = p.read_bytes()
            if re.fullmatch(r".*\.mixcli/shards/\d+\.json", str(p)):
                data = re.sub(rb'"seconds": [0-9.]+', b'"seconds": X', data)
            found[str(p.relative_to(out))] = hashlib.sha256(data).hexdigest()[:16]
    return found


def run_all(tree: Path, places: dict, work: Path) -> list:
    env = dict(os.environ, PYTHONPATH=str(tree), COLUMNS="100")
    results = []
    for k, case in enumerate(CASES):
        out = work / f"out{k}"
        shutil.rmtree(out, ignore_errors=True)
        for step in case:
            argv = [places.get(a, a).replace("{o}", str(out)) for a in step]
            p = subprocess.run([sys.executable, "-m", "mixcli", *argv], capture_output=True, text=True, env=env, cwd="/")
            text = re.sub(r"\d+\.\d+ s\b", "X s", p.stdout + "\n" + p.stderr)
            text = re.sub(r'"seconds": [0-9.]+', '"seconds": X', text).replace(str(work), "WORK")
            results.append((k, " ".join(step), p.returncode, text, None if k in TIMING else digests(out)))
        shutil.rmtree(out, ignore_errors=True)
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", type=Path, required=True, help="a source folder holding the other mixcli/")
    ap.add_argument("--outputs-only", action="store_true", help="compare what a user reads (not OUT/.mixcli, whose record names the version): across versions")
    args = ap.parse_args(argv)
    global SKIP_STATE
    SKIP_STATE = args.outputs_only
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        places = inputs(work / "in")
        new, old = run_all(REPO, places, work), run_all(args.old.resolve(), places, work)
    differences = 0
    for a, b in zip(new, old):
        for what, x, y in (("exit code", a[2], b[2]), ("messages", a[3], b[3]), ("files", a[4], b[4])):
            if x != y:
                differences += 1
                print(f"case {a[0]}, mixcli {a[1]}: {what} differ\n  this checkout: {str(x)[:300]}\n  the other:     {str(y)[:300]}")
    files = sum(len(r[4] or {}) for r in new)
    print(f"{len(new)} commands, {files} files compared: {differences} difference(s)")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())

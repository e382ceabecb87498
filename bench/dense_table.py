#!/usr/bin/env python3
"""Many classes, dense labels: what 1,000 p_<class> columns cost a row against 10, and where.

    python bench/dense_table.py                       # 10,000 and 50,000 rows, 3 repetitions (~22 min on 2 cores)
    python bench/dense_table.py --quick               # 2,000 and 10,000 rows, 2 repetitions (~5 min)
    python bench/dense_table.py --rows 10000 50000 --reps 5
    python bench/dense_table.py --only parts          # only the in-process timings (runs: only the whole runs;
                                                      # profile: only the cProfile of one run of each)
    python bench/dense_table.py --mixcli-rev HEAD     # mixcli/ as committed (git archive into /tmp/bench_work),
                                                      # not the working tree (which someone may be editing)

DATA: `--rows` hard links to one 8x8 PNG (pixel work next to nothing; one file per 60,000 links,
ext4's limit), `image,label` rows `0000000.png,c<k % C>`, cached under `--work`
(/tmp/mixcli_dense_bench/d<rows>_c<C>/), for C = 1,000 classes and its twin C = 10 (the same
images, the same rows, so the same seed draws the same pairs and weights).

Three studies:

  runs     `mixcli mixup DATA OUT --seed 0 --workers 1 -q` (and `--label-format sparse`) as a
           subprocess on both sizes; the two class counts alternate (the order flips every
           repetition), `sync` and the code loaded (bench/run.py's warm_code) untimed before each run.
           Every run writes a new OUT, and none is deleted before the end (a full run keeps ~4.5 GB
           and ~700,000 files under --work meanwhile), and the runs start --settle seconds after a
           sync: this VM's / is an ext4 without a journal, where each new file skips the inodes
           freed in the last 60 s one by one (the kernel's recently_deleted()), so a run started
           just after the previous OUT's 50,000 files were deleted spent 30 s more in the kernel
           (sys 10 s -> 40 s on 50,000 rows, whatever the classes: the noise of earlier figures).
           Per-row cost = slope between the two sizes (start-up apart); the figure is the slope
           with 1,000 classes minus the slope with 10 (wall, CPU user+sys, user), median and
           min-max over the repetitions (each repetition's own four runs). After each run, untimed:
           OUT/train.csv's bytes a row and its sha256 (the bytes every change must keep).
  parts    in a child process, on the larger size: prepare, then every chunk painted (no file
           written) for the RowResults, then per repetition, class count and format the table's
           work as the run does it, each step timed alone (wall: time.perf_counter, and CPU:
           time.process_time, which other load disturbs less), divided by the rows: prepare()
           (reads DATA), the journal (state.append of each chunk), by_row, the Table
           (Prepared.table), Table.rows(), Table.write into an io.StringIO, the shard's part
           written as finish_shard writes it (store.write_text_with), finish_shard whole (Table,
           part, stats), the merge (finish._write_tables: the parts into train.csv), merge_parts
           whole, and the run's counts (table_counts: pandas reads train.csv back; since issue 19
           shard_counts, from the shards' stats). The train.csv it merges is checked against the
           runs' (same sha256).
  profile  cProfile of `mixcli mixup ...` (wrapped: mixcli ends with os._exit, which
           `python -m cProfile` does not survive) on the larger size, dense, 1,000 and 10
           classes, one run each: cumulative time a row of the table's steps, and the functions
           whose own time grows most with the classes. cProfile sees the main thread only, which
           is where the shards are finished (Table, part), merged and counted; the painting
           thread is not in it (nor is its waiting for it: lock waits are left out of the list).

Writes bench/runs/DENSE-<mode>.md and bench/runs/<date>-dense-<mode>.json (mode: full or quick).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import struct
import subprocess
import sys
import time
import zlib
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import run as benchrun  # noqa: E402  (stdlib only at import: this process stays small)
from run import cpu_model, cpu_seconds, export_rev, git_rev, mixcli_cmd  # noqa: E402

PY = sys.executable
MIXCLI = mixcli_cmd()
ME = str(Path(__file__).resolve())
NCPU = os.cpu_count() or 1
SIZES = {"full": (10_000, 50_000), "quick": (2_000, 10_000)}
REPS = {"full": 3, "quick": 2}
PART_REPS = {"full": 5, "quick": 3}
MANY, FEW = 1000, 10
WARM_N = 1000  # rows of the warm-up run: code and caches loaded, few files made
FORMATS = ("dense", "sparse")
LINKS = 60_000  # ext4 allows 65,000 links to a file
TARGET_US = 20.0  # the target: dense costs at most this much more a row with 1,000 classes


# --------------------------------------------------------------------------- data

def tiny_png(seed: int, side: int = 8) -> bytes:
    """A random side x side RGB PNG (no numpy or cv2 in this process)."""
    rnd = random.Random(seed)
    raw = b"".join(b"\x00" + bytes(rnd.randrange(256) for _ in range(3 * side)) for _ in range(side))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def dataset(work: Path, rows: int, classes: int) -> Path:
    """DATA of `rows` hard-linked 8x8 PNGs labelled c<k % classes> (built once, then reused)."""
    data = work / f"d{rows}_c{classes}"
    if (data / ".complete").is_file():
        return data
    shutil.rmtree(data, ignore_errors=True)
    (data / "train").mkdir(parents=True)
    for j in range((rows + LINKS - 1) // LINKS):
        one = data / f"one{j}.png"
        one.write_bytes(tiny_png(j))  # the same bytes in every DATA: twins hold the same images
        for k in range(j * LINKS, min(rows, (j + 1) * LINKS)):
            os.link(one, data / "train" / f"{k:07d}.png")
        one.unlink()
    with open(data / "train.csv", "w") as f:
        f.write("image,label\n")
        f.writelines(f"{k:07d}.png,c{k % classes}\n" for k in range(rows))
    (data / ".complete").write_text("ok\n")
    return data


def file_digest(path: Path) -> tuple[int, str, int]:
    """(bytes, sha256, lines) of a file."""
    h, size, lines = hashlib.sha256(), 0, 0
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
            size += len(block)
            lines += block.count(b"\n")
    return size, h.hexdigest(), lines


def tree_digest(root: Path) -> str:
    """A digest of the .py files under root (to notice mixcli/ changing during a run)."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:12]


# --------------------------------------------------------------------------- whole runs

def mixcli_args(data: Path, out: Path, fmt: str) -> list[str]:
    return ["mixup", str(data), str(out), "--seed", "0", "--workers", "1", "-q"] + (["--label-format", fmt] if fmt != "dense" else [])


def timed_run(cmd: list[str], out: Path, env: dict | None, rows: int, err: Path) -> dict:
    """One run into a new OUT: wall, CPU (user, sys) and peak RSS of the child; then, untimed,
    train.csv's bytes and digest. OUT is left in place: see settle()."""
    if out.exists():
        raise SystemExit(f"dense_table: {out} exists")
    benchrun.warm_code("mixcli")
    os.sync()  # earlier runs' writeback and discards stay out of this one (as bench/run.py)
    with open(err, "wb") as ef:
        (b0, io0), t0 = cpu_seconds(), time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=ef, env=env, cwd="/")
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        b1, io1 = cpu_seconds()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(err.read_text(errors="replace")[-3000:])
        raise SystemExit(f"dense_table: command failed: {' '.join(cmd)}")
    size, sha, lines = file_digest(out / "train.csv")
    if lines != rows + 1:
        raise SystemExit(f"dense_table: {' '.join(cmd)} wrote {lines - 1} rows, expected {rows}")
    cpu = ru.ru_utime + ru.ru_stime
    return {"wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime, "cpu": cpu, "maxrss_mib": ru.ru_maxrss / 1024,
            "foreign": max(0.0, (b1 - b0 - cpu) / (wall * NCPU)), "iowait": (io1 - io0) / (wall * NCPU),
            "csv_bytes": size, "sha256": sha}


def settle(log, seconds: float) -> None:
    """sync, then wait: on an ext4 without a journal (this VM's /), every new inode skips, one by
    one, the inodes freed in the last 60 s (300 s while their inode-table block is dirty: the kernel's
    recently_deleted()), so a run creating 50,000 files just after 50,000 were deleted spends 30 s
    more in the kernel (perf: __ext4_new_inode -> find_inode_bit -> recently_deleted). Hence no OUT
    is deleted before the end, and the runs start `seconds` after the last deletion."""
    os.sync()
    if seconds > 0:
        log(f"bench: sync, then {seconds:.0f} s for inodes freed earlier to age (ext4 without a journal skips recently freed ones)")
        time.sleep(seconds)


def whole_runs(datas: dict, sizes: tuple, reps: int, env: dict | None, outroot: Path, log) -> dict:
    """(fmt, classes, n) -> [run dict] over the repetitions; the class counts alternate. Each run
    writes its own OUT under outroot, deleted only at the end (see settle)."""
    runs: dict = {}
    for rep in range(reps):
        for n in sizes:
            for fmt in FORMATS:
                for c in ((FEW, MANY) if rep % 2 == 0 else (MANY, FEW)):
                    out = outroot / f"run_{rep}_{n}_{fmt}_{c}"
                    r = timed_run(MIXCLI + mixcli_args(datas[n, c], out, fmt), out, env, n, outroot / "stderr.txt")
                    runs.setdefault((fmt, c, n), []).append(r)
                    log(f"rep {rep + 1}/{reps} n={n:<6} {fmt:6s} {c:5d} classes: {r['wall']:7.2f} s wall, {r['user']:6.2f} user, "
                        f"{r['sys']:6.2f} sys, {r['csv_bytes'] / n:7.1f} B a row of train.csv")
    return runs


def run_figures(runs: dict, sizes: tuple, reps: int) -> dict:
    """Per format: slopes (µs a row) of each class count and the extra of MANY over FEW, per repetition and from medians."""
    n0, n1 = sizes
    figs = {}
    for fmt in FORMATS:
        f = {}
        for attr in ("wall", "cpu", "user", "sys"):
            slope = {c: [(runs[fmt, c, n1][k][attr] - runs[fmt, c, n0][k][attr]) / (n1 - n0) * 1e6 for k in range(reps)] for c in (FEW, MANY)}
            med = {c: (statistics.median(r[attr] for r in runs[fmt, c, n1]) - statistics.median(r[attr] for r in runs[fmt, c, n0])) / (n1 - n0) * 1e6
                   for c in (FEW, MANY)}
            extra = [a - b for a, b in zip(slope[MANY], slope[FEW])]
            f[attr] = {"slope_few": med[FEW], "slope_many": med[MANY], "extra_of_medians": med[MANY] - med[FEW],
                       "extra_median": statistics.median(extra), "extra_min": min(extra), "extra_max": max(extra), "extra_reps": extra}
        f["bytes_a_row"] = {c: runs[fmt, c, n1][0]["csv_bytes"] / n1 for c in (FEW, MANY)}
        f["sha256"] = {f"{c}|{n}": sorted({r["sha256"] for r in runs[fmt, c, n]}) for c in (FEW, MANY) for n in sizes}
        figs[fmt] = f
    return figs


# --------------------------------------------------------------------------- in-process parts (child)

STEPS = [  # (key, what), in the order printed
    ("prepare", "prepare(): read DATA, the plan, names"),
    ("journal", "journal: state.append of each chunk"),
    ("by_row", "by_row (the shard's RowResults)"),
    ("build", "Table build (Prepared.table)"),
    ("rows", "Table.rows() iterated"),
    ("write_mem", "Table.write into io.StringIO (incl. rows)"),
    ("write_part", "the part written (store.write_text_with + Table.write)"),
    ("finish_shard", "finish_shard whole (Table + part + stats)"),
    ("merge", "merge: _write_tables (parts -> train.csv)"),
    ("merge_parts", "merge_parts whole"),
    ("counts", "the run's counts: table_counts (pandas reads train.csv) or shard_counts (stats)"),
]


def parts_main(argv: list[str]) -> int:
    """The child: time the table's steps in-process; print a JSON of {fmt|classes: {step: [seconds]}} and the digests."""
    ap = argparse.ArgumentParser(prog="dense_table.py parts")
    ap.add_argument("--data", nargs=2, type=Path, required=True, metavar=("FEW", "MANY"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    import importlib
    import io
    import threading

    import mixcli
    from mixcli.job import Job
    from mixcli.records import by_row
    finish = importlib.import_module("mixcli.runner.finish")  # mixcli.runner's own `finish` is the function
    local = importlib.import_module("mixcli.runner.local")
    from mixcli.runner.chunk import paint_chunk
    from mixcli.runner.opening import open_out
    from mixcli.runner.prepare import prepare

    print(f"parts: mixcli from {Path(mixcli.__file__).parent}", file=sys.stderr, flush=True)

    def counts_of(out, count):
        """The run's counts as its finish takes them: table_counts (train.csv read back with pandas)
        before issue 19's change, shard_counts (the shards' stats) since."""
        if hasattr(finish, "table_counts"):
            return finish.table_counts, out
        return finish.shard_counts, out, range(count)

    datas = dict(zip((FEW, MANY), args.data))
    preps, results = {}, {}
    for c in (FEW, MANY):
        for fmt in FORMATS:
            job = Job.make("mixup", str(datas[c]), str(args.out / f"{fmt}_{c}"), seed=0, workers=1, label_format=fmt, overwrite=True)
            prep = prepare(job)
            open_out(prep)
            preps[fmt, c] = prep
        prep = preps[FORMATS[0], c]  # the label format changes nothing of the painting
        stop = threading.Event()
        results[c] = {s: [paint_chunk(prep.job, prep.plan, prep.ds, ch, lambda *a: None, stop) for ch in prep.layout[s]]
                      for s in range(len(prep.layout))}
    print("parts: rows painted; timing", file=sys.stderr, flush=True)
    times: dict = {}  # "fmt|classes" -> step -> [wall seconds], and "cpu" -> the same in process CPU seconds
    digests: dict = {}
    for rep in range(args.reps):
        for fmt in FORMATS:
            for c in ((FEW, MANY) if rep % 2 == 0 else (MANY, FEW)):
                os.sync()
                prep = preps[fmt, c]
                out, state, store = prep.out, prep.out.state, prep.out.store
                wall: dict = {k: 0.0 for k, _ in STEPS}
                cpu: dict = {k: 0.0 for k, _ in STEPS}
                scratch = f"{out.WORK}/scratch_part.csv"
                table_key = getattr(out, "table", out.TABLE)  # Out.table since issue 19 (the table's name per output format)

                def timed(step, fn, *a):
                    w0, c0 = time.perf_counter(), time.process_time()
                    got = fn(*a)
                    wall[step] += time.perf_counter() - w0
                    cpu[step] += time.process_time() - c0
                    return got

                def journal(s, res):
                    for r in res:
                        state.append(s, r)

                def iterate(table):
                    for _ in table.rows():
                        pass

                timed("prepare", prepare, prep.job)
                count = len(prep.layout)
                for s in range(count):
                    res = results[c][s]
                    timed("journal", journal, s, res)
                    rows, row_results = timed("by_row", by_row, res)
                    table = timed("build", prep.table, row_results, rows)
                    written = [rows[k] for k in table.kept]
                    timed("rows", iterate, table)
                    buf = io.StringIO()
                    timed("write_mem", table.write, buf, written)
                    timed("write_part", store.write_text_with, scratch, lambda text: table.write(text, written))  # noqa: B023 (called now)
                    store.delete([scratch])
                    table = buf = None  # freed before finish_shard builds its own
                    timed("finish_shard", local.finish_shard, prep, s, res)
                store.delete([table_key])
                timed("merge", finish._write_tables, out, count)
                store.delete([table_key])
                timed("merge_parts", finish.merge_parts, out, count)
                rows_out = timed("counts", *counts_of(out, count))["rows"]
                for k in wall:
                    times.setdefault(f"{fmt}|{c}", {}).setdefault(k, []).append(wall[k])
                    times.setdefault(f"cpu|{fmt}|{c}", {}).setdefault(k, []).append(cpu[k])
                size, sha, _ = file_digest(Path(store.where(table_key)))
                digests.setdefault(f"{fmt}|{c}", set()).add(sha)
                print(f"parts: rep {rep + 1}/{args.reps} {fmt:6s} {c:5d} classes: " + ", ".join(f"{k} {v / rows_out * 1e6:.1f}" for k, v in wall.items())
                      + " µs a row", file=sys.stderr, flush=True)
    json.dump({"rows": rows_out, "shards": count, "times": times, "csv_bytes": size, "sha256": {k: sorted(v) for k, v in digests.items()}}, sys.stdout)
    return 0


def part_figures(parts: dict) -> dict:
    """(fmt, step) -> µs a row: few and many (medians), extra (median and min-max of each repetition's own
    difference), and the same extra in process CPU time (cpu, cpu_min, cpu_max)."""
    n = parts["rows"]
    figs = {}
    for fmt in FORMATS:
        for step, _ in STEPS:
            few, many = (parts["times"][f"{fmt}|{c}"][step] for c in (FEW, MANY))
            extra = [(a - b) / n * 1e6 for a, b in zip(many, few)]
            cfew, cmany = (parts["times"][f"cpu|{fmt}|{c}"][step] for c in (FEW, MANY))
            cextra = [(a - b) / n * 1e6 for a, b in zip(cmany, cfew)]
            figs[fmt, step] = {"few": statistics.median(few) / n * 1e6, "many": statistics.median(many) / n * 1e6,
                               "extra": statistics.median(extra), "min": min(extra), "max": max(extra),
                               "cpu": statistics.median(cextra), "cpu_min": min(cextra), "cpu_max": max(cextra)}
    return figs


# --------------------------------------------------------------------------- profile

WATCH = [  # (path suffix, function): the table's steps, cumulative
    ("runner/local.py", "finish_shard"), ("data/table.py", "__init__"), ("data/table.py", "write"), ("data/table.py", "rows"),
    ("data/labels.py", "mix_sparse"), ("store/base.py", "write_text_with"), ("runner/finish.py", "merge_parts"),
    ("runner/finish.py", "_write_tables"), ("runner/finish.py", "fill"), ("runner/finish.py", "table_counts"), ("runner/finish.py", "shard_counts"),
    ("runner/prepare.py", "prepare"), ("outdir/state.py", "append"), ("runner/local.py", "run_shards"), ("runner/finish.py", "finish"),
    ("mixcli/columns.py", "quoted"), ("mixcli/columns.py", "part_row"), ("mixcli/columns.py", "part_rest"), ("mixcli/columns.py", "files_of"),
]


# mixcli's main() ends with os._exit (no interpreter teardown), which `python -m cProfile` would not
# survive: the profile is written from a wrapped os._exit.
PROFILED = """
import cProfile, os, sys
path, sys.argv = sys.argv[1], ["mixcli"] + sys.argv[2:]
prof, real_exit = cProfile.Profile(), os._exit
def _exit(code):
    prof.disable()
    prof.dump_stats(path)
    real_exit(code)
os._exit = _exit
prof.enable()
from mixcli.cli import main
main()
"""


def profile(datas: dict, n: int, env: dict | None, outroot: Path, log) -> dict:
    """cProfile of one dense run of each class count: {classes: {"top": [...], "watch": {...}, "total": s}}."""
    import pstats

    found = {}
    for c in (MANY, FEW):
        out, prof = outroot / f"prof_out_{c}", outroot / f"prof_{c}.pstats"
        os.sync()
        t0 = time.perf_counter()
        subprocess.run([PY, "-c", PROFILED, str(prof)] + mixcli_args(datas[n, c], out, "dense"), check=True, env=env, cwd="/", stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        st = pstats.Stats(str(prof)).stats  # (file, line, fn) -> (cc, nc, tt, ct, callers)
        funcs = {}
        for (file, line, fn), (cc, nc, tt, ct, _) in st.items():
            name = f"{_short(file)}:{line}({fn})"
            funcs[name] = {"calls": nc, "tottime": tt, "cumtime": ct}
        watch = {}
        for suffix, fn in WATCH:
            for (file, line, f), (cc, nc, tt, ct, _) in st.items():
                if f == fn and file.endswith(suffix):
                    watch[f"{suffix}:{fn}"] = {"calls": nc, "tottime": tt, "cumtime": ct}
        found[c] = {"wall": wall, "funcs": funcs, "watch": watch}
        log(f"profile: {c} classes, {n} rows dense: {wall:.1f} s under cProfile")
    return found


def _short(file: str) -> str:
    for mark in ("/mixcli/", "/site-packages/", "/lib/python"):
        if mark in file:
            return file[file.index(mark) + 1:]
    return file


# --------------------------------------------------------------------------- main

def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["parts"]:
        return parts_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2,000 / 10,000 rows, 2 repetitions")
    ap.add_argument("--rows", type=int, nargs=2, default=None, metavar=("SMALL", "LARGE"), help="[full 10000 50000; quick 2000 10000]")
    ap.add_argument("--reps", type=int, default=None, help="repetitions [full 3, quick 2]")
    ap.add_argument("--part-reps", type=int, default=None, help="repetitions of the in-process steps [full 5, quick 3]")
    ap.add_argument("--only", choices=["runs", "parts", "profile"], nargs="+", default=None, help="the studies to run [all three]")
    ap.add_argument("--mixcli-rev", default=None, metavar="REV", help="benchmark mixcli/ as committed at REV (git archive) instead of the working tree")
    ap.add_argument("--work", type=Path, default=Path("/tmp/mixcli_dense_bench"), help="DATA and OUT go here [/tmp/mixcli_dense_bench]")
    ap.add_argument("--settle", type=float, default=65.0, help="seconds to wait after sync before the timed runs (see settle()) [65]")
    ap.add_argument("--results", type=Path, default=None, help="markdown output [bench/runs/DENSE-<mode>.md]")
    args = ap.parse_args(argv)
    mode = "quick" if args.quick else "full"
    sizes = tuple(sorted(args.rows or SIZES[mode]))
    reps = args.reps or REPS[mode]
    part_reps = args.part_reps or PART_REPS[mode]
    studies = args.only or ["runs", "parts", "profile"]
    results_md = args.results or HERE / "runs" / f"DENSE-{mode}.md"
    log = lambda s: print(s, flush=True)  # noqa: E731
    t_start = time.perf_counter()
    load0 = os.getloadavg()[0]

    env, sha = None, None
    if args.mixcli_rev:
        src, sha = export_rev(args.mixcli_rev)
        env = {**os.environ, "PYTHONPATH": str(src)}
        benchrun.MIXCLI_ENV = env  # warm_code loads the snapshot's modules
    src_dir = Path(subprocess.run([PY, "-c", "import mixcli, os; print(os.path.dirname(mixcli.__file__))"], capture_output=True, text=True,
                                  check=True, env=env, cwd="/").stdout.strip())
    rev0, tree0 = git_rev(args.mixcli_rev, sha), tree_digest(src_dir)
    log(f"bench: mixcli from {src_dir} (git {rev0}, .py digest {tree0})")
    # Byte-compile mixcli (as pip install does: this VM sets PYTHONDONTWRITEBYTECODE).
    subprocess.run([PY, "-c", "import compileall, os, mixcli; compileall.compile_dir(os.path.dirname(mixcli.__file__), quiet=1)"],
                   check=True, env=env, cwd="/")
    benchrun.WORK.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    # One benchmark at a time in a --work: two would share the cores (and one would delete the other's OUTs).
    lock = open(args.work / ".lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit(f"dense_table: another dense_table.py is running in {args.work}: wait for it (or give another --work)") from None
    outroot = args.work / "out"
    shutil.rmtree(outroot, ignore_errors=True)  # an earlier run's, killed before its end (we hold the lock)
    outroot.mkdir()
    log("bench: building / checking DATA ...")
    datas = {(n, c): dataset(args.work, n, c) for n in sizes + (WARM_N,) for c in (FEW, MANY)}
    settle(log, args.settle)

    runs = figs = parts = pfigs = prof = None
    if "runs" in studies:
        log(f"bench: whole runs, {reps} repetitions ...")
        timed_run(MIXCLI + mixcli_args(datas[WARM_N, MANY], outroot / "warm", "dense"), outroot / "warm", env, WARM_N, outroot / "stderr.txt")
        runs = whole_runs(datas, sizes, reps, env, outroot, log)
        figs = run_figures(runs, sizes, reps)
    if "parts" in studies:
        n = sizes[1]
        log(f"bench: the table's steps in-process, {n} rows, {part_reps} repetitions ...")
        got = subprocess.run([PY, ME, "parts", "--data", str(datas[n, FEW]), str(datas[n, MANY]), "--out", str(outroot / "parts"),
                              "--reps", str(part_reps)], stdout=subprocess.PIPE, text=True, check=True, env=env, cwd="/")
        parts = json.loads(got.stdout)
        pfigs = part_figures(parts)
        shutil.rmtree(outroot / "parts", ignore_errors=True)
    if "profile" in studies:
        log("bench: cProfile of one dense run of each class count ...")
        prof = profile(datas, sizes[1], env, outroot, log)
    shutil.rmtree(outroot, ignore_errors=True)
    elapsed = time.perf_counter() - t_start
    tree1 = tree_digest(src_dir)

    # Report.
    n0, n1 = sizes
    header = [
        f"Dense-table benchmark {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')} ({mode} mode, {reps} repetitions of the runs, "
        f"{part_reps} of the in-process steps; "
        f"{elapsed / 60:.1f} min in all)",
        f"Machine: {cpu_model()}, {NCPU} cores; {platform.platform()}; Python {platform.python_version()}",
        f"mixcli at git {rev0} from {src_dir}" + ("" if tree1 == tree0 else f" — ITS .py FILES CHANGED DURING THE RUN ({tree0} -> {tree1})"),
        f"DATA: {n0} and {n1} hard links to one 8x8 PNG, {MANY} classes and the twin with {FEW}; "
        f"command: mixcli mixup DATA OUT --seed 0 --workers 1 -q [--label-format sparse]; --work {args.work}",
        f"load average (1 min) {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end",
    ]
    md = [f"# mixcli dense-table benchmark ({mode})", ""] + [f"- {h}" for h in header] + [""]
    if figs:
        fo = [r["foreign"] for rs in runs.values() for r in rs]
        iw = [r["iowait"] for rs in runs.values() for r in rs]
        md += [f"Whole runs: other processes' share of the cores median {100 * statistics.median(fo):.0f}%, max {100 * max(fo):.0f}%; "
               f"iowait median {100 * statistics.median(iw):.0f}%, max {100 * max(iw):.0f}%.", ""]
        md += [f"Per-row cost (slope between {n0} and {n1} rows), µs a row: {FEW} classes, {MANY} classes, and the extra of {MANY} "
               "(median of the repetitions' own extras [min-max]; from the medians):", "",
               "| format | clock | slope 10 | slope 1000 | extra 1000 vs 10: median [min-max] | extra of medians | target |", "|---|---|---|---|---|---|---|"]
        for fmt in FORMATS:
            for attr in ("wall", "cpu", "user", "sys"):
                f = figs[fmt][attr]
                tgt = f"<= {TARGET_US:.0f}: {'PASS' if f['extra_median'] <= TARGET_US else 'FAIL'}" if fmt == "dense" and attr == "wall" else ""
                md.append(f"| {fmt} | {attr} | {f['slope_few']:.0f} | {f['slope_many']:.0f} | {f['extra_median']:.1f} "
                          f"[{f['extra_min']:.1f} – {f['extra_max']:.1f}] | {f['extra_of_medians']:.1f} | {tgt} |")
        md += ["", "Wall / CPU (user+sys) seconds, median:", "", "| format | classes | " + " | ".join(f"{n} rows" for n in sizes) + " |",
               "|---|---|" + "---|" * len(sizes)]
        for fmt in FORMATS:
            for c in (FEW, MANY):
                md.append(f"| {fmt} | {c} | " + " | ".join(
                    f"{statistics.median(r['wall'] for r in runs[fmt, c, n]):.2f} / {statistics.median(r['cpu'] for r in runs[fmt, c, n]):.2f}"
                    for n in sizes) + " |")
        md += ["", "OUT/train.csv (the bytes a change must keep):", "", "| format | classes | rows | bytes | bytes a row | sha256 |", "|---|---|---|---|---|---|"]
        for fmt in FORMATS:
            for c in (FEW, MANY):
                for n in sizes:
                    shas = {r["sha256"] for r in runs[fmt, c, n]}
                    b = runs[fmt, c, n][0]["csv_bytes"]
                    md.append(f"| {fmt} | {c} | {n} | {b} | {b / n:.1f} | {'; '.join(s[:16] for s in sorted(shas))}"
                              f"{'' if len(shas) == 1 else ' (DIFFERS BETWEEN REPETITIONS)'} |")
    if pfigs:
        nrows = parts["rows"]
        same = ""
        if runs:
            for fmt in FORMATS:
                for c in (FEW, MANY):
                    if parts["sha256"][f"{fmt}|{c}"] != sorted({r["sha256"] for r in runs[fmt, c, n1]}):
                        same += f" {fmt}/{c}: train.csv DIFFERS from the runs'."
            same = same or " Its train.csv is byte for byte the runs'."
        md += ["", f"In-process, {nrows} rows ({parts['shards']} shards), each step timed alone, µs a row; extra = {MANY} classes minus "
               f"{FEW}, median of the repetitions' own differences [min-max].{same}", "",
               "| step | dense 10 | dense 1000 | dense extra [min-max] | dense extra, CPU [min-max] | sparse 10 | sparse 1000 | sparse extra [min-max] | sparse extra, CPU |",
               "|---|---|---|---|---|---|---|---|---|"]
        for step, what in STEPS:
            cells = []
            for fmt in FORMATS:
                f = pfigs[fmt, step]
                cells += [f"{f['few']:.1f}", f"{f['many']:.1f}", f"{f['extra']:.1f} [{f['min']:.1f} – {f['max']:.1f}]"]
                cells += [f"{f['cpu']:.1f} [{f['cpu_min']:.1f} – {f['cpu_max']:.1f}]"] if fmt == "dense" else [f"{f['cpu']:.1f}"]
            md.append(f"| {what} | " + " | ".join(cells) + " |")
        run_steps = ("prepare", "journal", "finish_shard", "merge_parts", "counts")
        cells = []
        for fmt in FORMATS:
            cells += ["", "", f"{sum(pfigs[fmt, s]['extra'] for s in run_steps):.1f}", f"{sum(pfigs[fmt, s]['cpu'] for s in run_steps):.1f}"]
        md.append("| **what a run does**: prepare + journal + finish_shard + merge_parts + counts | " + " | ".join(cells) + " |")
    if prof:
        tot = {c: prof[c]["watch"] for c in prof}
        md += ["", f"cProfile, main thread, one dense run of {n1} rows (wall under cProfile: {MANY} classes {prof[MANY]['wall']:.1f} s, "
               f"{FEW} classes {prof[FEW]['wall']:.1f} s); cumulative µs a row:", "",
               f"| function | calls ({MANY}) | {FEW} classes | {MANY} classes | extra |", "|---|---|---|---|---|"]
        for key in tot[MANY]:
            a = tot[MANY][key]
            b = tot[FEW].get(key, {"cumtime": 0.0})
            md.append(f"| {key} | {a['calls']} | {b['cumtime'] / n1 * 1e6:.1f} | {a['cumtime'] / n1 * 1e6:.1f} | {(a['cumtime'] - b['cumtime']) / n1 * 1e6:.1f} |")
        fm, ff = prof[MANY]["funcs"], prof[FEW]["funcs"]
        waits = ("acquire' of '_thread.lock", "method 'wait'")  # the main thread waiting for the painting thread
        delta = sorted((k for k in fm if not any(w in k for w in waits)), key=lambda k: fm[k]["tottime"] - ff.get(k, {"tottime": 0.0})["tottime"],
                       reverse=True)[:20]
        md += ["", f"Own time (tottime) that grows most with the classes, µs a row ({MANY} minus {FEW} classes):", "",
               f"| function | calls ({MANY}) | own {FEW} | own {MANY} | extra |", "|---|---|---|---|---|"]
        for k in delta:
            a, b = fm[k], ff.get(k, {"tottime": 0.0, "calls": 0})
            md.append(f"| `{k}` | {a['calls']} | {b['tottime'] / n1 * 1e6:.1f} | {a['tottime'] / n1 * 1e6:.1f} | {(a['tottime'] - b['tottime']) / n1 * 1e6:.1f} |")
    md.append("")
    text = "\n".join(md)
    print("\n" + text)
    results_md.parent.mkdir(parents=True, exist_ok=True)
    results_md.write_text(text)
    raw_path = HERE / "runs" / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-dense-{mode}.json"
    raw = {"mode": mode, "reps": reps, "part_reps": part_reps, "sizes": sizes, "header": header, "run_figures": figs,
           "runs": {f"{fmt}|{c}|{n}": rs for (fmt, c, n), rs in runs.items()} if runs else None,
           "parts": parts, "part_figures": {f"{fmt}|{s}": v for (fmt, s), v in pfigs.items()} if pfigs else None,
           "profile": {c: {"wall": p["wall"], "watch": p["watch"],
                           "top_tottime": dict(sorted(p["funcs"].items(), key=lambda kv: kv[1]["tottime"], reverse=True)[:60])}
                       for c, p in prof.items()} if prof else None}
    raw_path.write_text(json.dumps(raw, indent=1))
    print(f"wrote {results_md.relative_to(REPO) if results_md.is_relative_to(REPO) else results_md} and {raw_path.relative_to(REPO)}; "
          f"{elapsed:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())

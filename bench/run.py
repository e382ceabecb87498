#!/usr/bin/env python3
"""Benchmark mixcli against reference scripts, in one run, alternating the contenders.

    python bench/run.py              # full run (about 15 minutes on 2 cores)
    python bench/run.py --quick      # small sizes (about 2.5 minutes on 2 cores)
    python bench/run.py --only ops   # only the floor and the operations of OPS, on (a)

Builds (or reuses) the corpora under bench/corpus/, warms the numba cache and the page
cache, then for every repetition runs each contender once per (workload, size), in a
rotating order, as a subprocess writing into a fresh folder under /tmp/bench_work/out/.
The operations of OPS run alongside, on workload (a), in the first --op-reps repetitions.
Reports medians, derived figures and PASS/FAIL against the project's targets; writes a
markdown table (bench/runs/RESULTS-<mode>.md, to paste into bench/RESULTS.md, the history) and
the raw timings as JSON under bench/runs/. See bench/README.md for what is measured and how the figures are derived.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

WORK = Path("/tmp/bench_work")
PY = sys.executable
BASELINES = str(HERE / "baselines.py")
NCPU = os.cpu_count() or 1


def mixcli_cmd() -> list[str]:
    """The installed console script next to this Python (not a pyenv shim), else python -m mixcli."""
    script = Path(PY).with_name("mixcli")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("mixcli")
    if found and "shims" not in found:
        return [found]
    return [PY, "-m", "mixcli"]


MIXCLI = mixcli_cmd()

# Workloads: corpus kind and each contender's arguments after DATA OUT.
WORKLOADS = {
    "a": {
        "title": "(a) 500x375, mixup --alpha 0.2",
        "corpus": "(a) 500x375",
        "kind": "a",
        "contenders": {
            "mixcli": MIXCLI + ["mixup", "{data}", "{out}", "--alpha", "0.2", "--quiet", "--overwrite"],
            "floor": [PY, BASELINES, "floor", "{data}", "{out}"],
            "naive": [PY, BASELINES, "naive", "{data}", "{out}", "--op", "mixup", "--alpha", "0.2"],
            "careful": [PY, BASELINES, "careful", "{data}", "{out}", "--op", "mixup", "--alpha", "0.2"],
        },
    },
    "b": {
        "title": "(b) 2016x1512, cutmix --prob 0.5 --size 256x256",
        "corpus": "(b) 2016x1512",
        "kind": "b",
        "contenders": {
            "mixcli": MIXCLI + ["cutmix", "{data}", "{out}", "--prob", "0.5", "--size", "256x256", "--quiet", "--overwrite"],
            "floor": [PY, BASELINES, "floor", "{data}", "{out}", "--size", "256x256"],
            "naive": [PY, BASELINES, "naive", "{data}", "{out}", "--op", "cutmix", "--prob", "0.5", "--size", "256x256"],
        },
    },
    "c": {
        "title": "(c) 2016x1512, cutmix",
        "corpus": "(b) 2016x1512",
        "kind": "b",
        "contenders": {
            "mixcli": MIXCLI + ["cutmix", "{data}", "{out}", "--quiet", "--overwrite"],
            "floor": [PY, BASELINES, "floor", "{data}", "{out}"],
        },
    },
}
# Per-image cost (slope) of mixcli / the floor's, per workload: (a) and (c) below the OpenCV
# floor (issue 11: libjpeg-turbo decoding), (b) no slower than before (its DCT-reduced decode costs the same).
TARGETS = {"a": 0.90, "b": 1.10, "c": 0.75}

# The other operations, each `mixcli OP DATA OUT --quiet --overwrite` with its defaults (every
# row mixed), timed on workload OPS_WORKLOAD in the same rotation as its floor: OP -> target
# for its per-image cost (slope), as a multiple of the floor's.
OPS = {"mix": 1.10, "resizemix": 1.10, "mosaic": 1.10, "fmix": 1.50, "cutout": 1.10}
OPS_WORKLOAD = "a"


def op_contender(op: str) -> str:
    return f"mixcli {op}"


def is_op(contender: str) -> bool:
    """Whether a contender is one of the operations of OPS."""
    return any(contender == op_contender(op) for op in OPS)


SIZES = {
    "full": {"a": (1000, 3000), "b": (100, 400), "c": (100, 400), "fixed": 10},
    "quick": {"a": (100, 300), "b": (20, 60), "c": (20, 60), "fixed": 10},
}


@dataclass
class Run:
    wall: float
    cpu: float  # user + sys of the child
    maxrss_kib: int
    foreign: float = 0.0  # share of all cores busy with other processes during the run
    iowait: float = 0.0  # share of all cores idle waiting for I/O during the run


def cpu_seconds() -> tuple[float, float]:
    """(busy, iowait) CPU seconds of all cores since boot, from /proc/stat."""
    try:
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan"), float("nan")
    user, nice, system, idle, iowait, irq, softirq = f[:7]
    hz = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / hz, iowait / hz


@dataclass
class Results:
    runs: dict = field(default_factory=dict)  # (workload, contender, n) -> [Run]

    def add(self, key, run: Run) -> None:
        self.runs.setdefault(key, []).append(run)

    def med(self, key, attr="wall") -> float:
        return statistics.median(getattr(r, attr) for r in self.runs[key])

    def paired(self, fn, keys) -> float:
        """Median over repetitions of fn(rep), over the repetitions that ran all of keys: ratios
        of runs made close in time cancel slow drift. (Every contender runs in a prefix of the
        repetitions, so self.runs[key][rep] of different keys come from the same repetition.)"""
        n = min(len(self.runs[k]) for k in keys)
        return statistics.median(fn(r) for r in range(n))

    def wall(self, key, rep) -> float:
        return self.runs[key][rep].wall

    def spread(self, key) -> float:
        w = [r.wall for r in self.runs[key]]
        return (max(w) - min(w)) / statistics.median(w)


MIXCLI_ENV: dict | None = None  # set by --mixcli-rev: PYTHONPATH pointing at an exported snapshot


def run_timed(cmd: list[str], out: Path | None, expect: int | None = None) -> Run:
    """Run cmd to completion; wall clock, CPU time and peak RSS of the child (os.wait4)."""
    if out is not None and out.exists():
        shutil.rmtree(out)
    err = WORK / "last_stderr.txt"
    # Untimed: flush earlier runs' writes and deletions, or their writeback (and ext4's discards)
    # lands in this run: iowait reached 45 % late in a full run without it.
    os.sync()
    with open(err, "wb") as ef:
        (b0, io0), t0 = cpu_seconds(), time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=ef, env=MIXCLI_ENV)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        b1, io1 = cpu_seconds()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.stderr.write(err.read_text(errors="replace")[-3000:])
        raise SystemExit(f"bench: command failed (exit {p.returncode}): {' '.join(cmd)}")
    if out is not None:
        got = sum(1 for _ in os.scandir(out / "images"))
        if expect is not None and got != expect:
            raise SystemExit(f"bench: {' '.join(cmd)} wrote {got} images, expected {expect}")
        if not (out / "train.csv").is_file():
            raise SystemExit(f"bench: {' '.join(cmd)} wrote no train.csv")
        shutil.rmtree(out)
    cpu = ru.ru_utime + ru.ru_stime
    foreign = max(0.0, (b1 - b0 - cpu) / (wall * NCPU))
    return Run(wall=wall, cpu=cpu, maxrss_kib=ru.ru_maxrss, foreign=foreign, iowait=(io1 - io0) / (wall * NCPU))


def fmt_cmd(template: list[str], data: Path, out: Path) -> list[str]:
    return [a.format(data=data, out=out) for a in template]


def warm_page_cache(data: Path) -> None:
    """Read every file of a corpus. Done before each timed run: this VM reclaims cold page
    cache proactively (DAMON), and a run that reads its inputs from disk is not comparable."""
    for f in (data / "train").iterdir():
        with open(f, "rb") as fh:
            while fh.read(1 << 20):
                pass


# What each contender imports, loaded untimed in a child just before its timed run.
_WARM_MIXCLI = (
    "import mixcli.cli, tqdm\n"
    "try:\n    import mixcli.runner; from mixcli.pixels import checked as kernels\n"
    "except ImportError:  # a --mixcli-rev before the restructuring (issue 17)\n    import mixcli.pipeline; from mixcli import ops as kernels\n"
    "kernels.load_kernels()"
)


def warm_code(contender: str) -> None:
    """Load a contender's Python modules and libraries once, untimed, so that its timed run finds
    them in the page cache, as warm_page_cache does for the images. Without it mixcli, whose
    numba, LLVM and pandas no other contender touches, read them from disk (~150 major faults,
    +0.9 s) in runs that came a minute after its previous one; numpy and cv2 stay warm for all."""
    if contender.startswith("mixcli"):
        # From /: `python -c` puts the working directory first on sys.path, before a --mixcli-rev snapshot.
        subprocess.run([PY, "-c", _WARM_MIXCLI], check=True, env=MIXCLI_ENV, cwd="/")
    else:
        subprocess.run([PY, BASELINES, "--help"], check=True, stdout=subprocess.DEVNULL)


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float("nan")


# --------------------------------------------------------------------------- micro-benchmarks


BLOCK = 5  # timed calls in a row per case and repetition


def import_seconds(module: str, after: tuple[str, ...], reps: int = 5) -> float:
    """What importing `module` adds to a fresh Python that has imported `after` (-X importtime,
    cumulative, median of reps)."""
    times = []
    for _ in range(reps):
        err = subprocess.run([PY, "-X", "importtime", "-c", f"import {', '.join(after)}; import {module}"],
                             capture_output=True, text=True, check=True, env=MIXCLI_ENV).stderr
        lines = [ln for ln in err.splitlines() if ln.rstrip().endswith(f"| {module}")]
        times.append(int(lines[-1].split("|")[1]) / 1e6)
    return statistics.median(times)


def micro(data_b: Path, reps: int = 30) -> dict:
    """Kernel timings on a 2016x1512x3 photo, single-threaded cv2; medians in ms."""
    import cv2
    import numpy as np

    from mixcli.pixels import checked as ops

    kernels = ops.load_kernels()  # ops.blend/paste: checked calls into the numba kernels
    cv2.setNumThreads(1)
    print(f"  kernels from {kernels.__file__} ({ops.active()})", flush=True)
    files = sorted((data_b / "train").iterdir())[:2]
    a, b = (cv2.imread(str(f), cv2.IMREAD_COLOR) for f in files)
    assert a.shape == b.shape == (1512, 2016, 3), a.shape
    out = np.empty_like(a)
    h, w = a.shape[:2]
    lam = 0.3
    part = (h // 4, 3 * h // 4, w // 4, 3 * w // 4)

    def np_slice(box):
        y1, y2, x1, x2 = box
        out[y1:y2, x1:x2] = b[y1:y2, x1:x2]

    cases = {
        "blend": lambda: ops.blend(a, b, lam, out),
        "addWeighted": lambda: cv2.addWeighted(a, lam, b, 1 - lam, 0, dst=out),
        "paste full": lambda: ops.paste(b, (0, h, 0, w), out),
        "slice full": lambda: np_slice((0, h, 0, w)),
        "paste 1/4 box": lambda: ops.paste(b, part, out),
        "slice 1/4 box": lambda: np_slice(part),
    }
    times = {k: [] for k in cases}
    order = random.Random(0)
    for _ in range(reps):
        # Blocks interleaved, so drift hits every case alike, in a new order each repetition:
        # a case right after blend or addWeighted ran up to 1.5x slower, whatever it was.
        for k in order.sample(list(cases), len(cases)):
            fn = cases[k]
            for _ in range(2):  # untimed: caches warm for this case
                fn()
            t0 = time.perf_counter()
            for _ in range(BLOCK):
                fn()
            times[k].append((time.perf_counter() - t0) / BLOCK)
    # JPEG decoding of the same photo (the pipeline's fallback vs its decoder), alternating.
    import simplejpeg

    jpeg = files[0].read_bytes()
    decoders = {
        "decode cv2.imdecode": lambda: cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR),
        "decode simplejpeg": lambda: simplejpeg.decode_jpeg(jpeg, colorspace="BGR"),
    }
    for k in decoders:
        times[k] = []
    for _ in range(max(5, reps // 3)):
        for k, fn in decoders.items():
            fn()
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    # Timed apart: it allocates and frees ~70 MB a call, which slowed whichever case came next.
    times["numpy float blend"] = []
    for _ in range(max(3, reps // 3)):
        t0 = time.perf_counter()
        (lam * a + (1 - lam) * b).astype(np.uint8)
        times["numpy float blend"].append(time.perf_counter() - t0)
    return {k: 1000 * statistics.median(v) for k, v in times.items()}


# --------------------------------------------------------------------------- main


def versions() -> dict:
    import cv2
    import numba
    import numpy

    v = {"Python": platform.python_version(), "numpy": numpy.__version__, "opencv": cv2.__version__, "numba": numba.__version__}
    for mod in ("llvmlite", "pandas", "typer"):
        try:
            v[mod] = __import__(mod).__version__
        except Exception:
            pass
    try:
        import mixcli

        v["mixcli"] = mixcli.__version__
    except Exception:
        pass
    return v


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def export_rev(rev: str) -> tuple[Path, str]:
    """git archive REV's mixcli/ into /tmp/bench_work/src_<sha>/ (so concurrent edits don't matter)."""
    sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", rev + "^{commit}"],
                         capture_output=True, text=True, check=True).stdout.strip()
    dest = WORK / f"src_{sha[:12]}"
    if not (dest / "mixcli" / "__init__.py").is_file():
        dest.mkdir(parents=True, exist_ok=True)
        arch = subprocess.run(["git", "-C", str(REPO), "archive", sha, "mixcli"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=arch, check=True)
    return dest, sha


def git_rev(rev: str | None = None, sha: str | None = None) -> str:
    if rev:
        return f"{sha[:7]} (exported with --mixcli-rev {rev}; working-tree edits not included)"
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "mixcli"], capture_output=True, text=True).stdout.strip()
        return rev + (" + uncommitted changes in mixcli/" if dirty else "")
    except OSError:
        return "unknown"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("PASS" if ok else "FAIL")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small corpora (about 2.5 minutes)")
    ap.add_argument("--reps", type=int, default=None, help="repetitions per contender (median) [full 5, quick 3]")
    ap.add_argument("--op-reps", type=int, default=None,
                    help=f"repetitions of the operations {', '.join(OPS)} (and of the floor with them) "
                         "[min(--reps, 3); --only ops: --reps if given, else 3]")
    ap.add_argument("--only", choices=["ops"], default=None,
                    help="ops: time only the floor and the operations on (a); no --help, fixed-cost, (b), "
                         "naive, careful, --workers or kernel figures")
    ap.add_argument("--results", type=Path, default=None,
                    help="markdown output [bench/runs/RESULTS-full.md; --quick: bench/runs/RESULTS-quick.md; "
                         "--only ops: bench/runs/RESULTS[-quick]-ops.md]")
    ap.add_argument("--mixcli-rev", default=None, metavar="REV",
                    help="benchmark mixcli/ as committed at git REV (exported to /tmp/bench_work) instead of the working tree")
    args = ap.parse_args(argv)
    global MIXCLI_ENV
    sha = None
    if args.mixcli_rev:
        src, sha = export_rev(args.mixcli_rev)
        MIXCLI_ENV = dict(os.environ, PYTHONPATH=str(src) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        sys.path.insert(0, str(src))  # the kernels micro-benchmark imports the same code
    mode = "quick" if args.quick else "full"
    only_ops = args.only == "ops"
    if args.op_reps is None:
        args.op_reps = args.reps if only_ops and args.reps else min(args.reps or 3, 3)
    if args.reps is None:
        args.reps = 3 if args.quick else 5
    if only_ops:
        args.reps = args.op_reps  # the floor's, the only other contender
    run_name = mode + ("-ops" if only_ops else "")
    sizes = SIZES[mode]
    # bench/RESULTS.md keeps every run's figures: a run writes its own file, to be pasted in there.
    results_md = args.results or HERE / "runs" / f"RESULTS-{run_name}.md"
    t_start = time.perf_counter()
    load0 = loadavg()
    WORK.mkdir(parents=True, exist_ok=True)
    outroot = WORK / "out"
    outroot.mkdir(exist_ok=True)
    log = lambda s: print(s, flush=True)  # noqa: E731

    # What the main timings run: workload -> contender -> command template. The operations join
    # their workload's contenders; --only ops keeps just them and the floor they are compared with.
    plan = {}
    for wl, spec in WORKLOADS.items():
        if not only_ops or wl == OPS_WORKLOAD:
            plan[wl] = {c: t for c, t in spec["contenders"].items() if not only_ops or c == "floor"}
    plan[OPS_WORKLOAD].update({op_contender(op): MIXCLI + [op, "{data}", "{out}", "--quiet", "--overwrite"] for op in OPS})

    def runs_in(wl: str, c: str, rep: int) -> bool:
        """Whether contender c runs in repetition rep: the operations in the first --op-reps, the
        floor they are compared with in every repetition, the rest in the first --reps."""
        if is_op(c):
            return rep < args.op_reps
        return rep < args.reps or (wl == OPS_WORKLOAD and c == "floor")

    # Corpora, built in a subprocess: this process must stay small, because a child's
    # ru_maxrss starts from the parent's peak RSS (vfork + exec).
    datas = {}
    for wl in plan:
        spec = WORKLOADS[wl]
        ns = (sizes["fixed"],) + sizes[wl]
        made = subprocess.run([PY, str(HERE / "make_corpus.py"), spec["kind"], *map(str, ns)],
                              stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()
        for n, line in zip(ns, made):
            path, desc = line.split("\t")
            datas[wl, n] = Path(path)
            log("  " + desc)
    for d in sorted(set(datas.values())):
        warm_page_cache(d)

    # Warm the numba cache (compiles on first use after a kernels change) and the imports.
    log(f"bench: mixcli = {' '.join(MIXCLI)}; warming up ...")
    # pip byte-compiles an installed package; a checkout run with PYTHONDONTWRITEBYTECODE set
    # (as on this VM) would compile mixcli's sources in every run (~0.02 s).
    subprocess.run([PY, "-c", "import compileall, os, mixcli; compileall.compile_dir(os.path.dirname(mixcli.__file__), quiet=1)"],
                   check=True, env=MIXCLI_ENV, cwd="/")
    # A 10-photo run ends before mixcli loads numba: its cache is compiled here, in a child.
    warm_code("mixcli")
    for wl, cands in plan.items():
        data = datas[wl, sizes["fixed"]]
        for cname, tmpl in cands.items():
            out = outroot / f"warm_{wl}_{cname.replace(' ', '_')}"
            run_timed(fmt_cmd(tmpl, data, out), out, sizes["fixed"])

    res = Results()
    w1 = ["--workers", "1"]
    w2_reused = NCPU == 2  # mixcli's default --workers is all cores: on 2 cores that run is --workers 2

    # --help, median of 5.
    helps = [] if only_ops else [run_timed(MIXCLI + ["--help"], None).wall for _ in range(5)]
    decoder_import = None if only_ops else import_seconds("simplejpeg", after=("numpy", "cv2"))

    # Fixed cost: 10 photos, mixcli vs floor, alternating, 5 repetitions.
    nf = sizes["fixed"]
    fixed_wls = () if only_ops else ("a", "b") if mode == "full" else ("a",)
    for rep in range(5):
        for wl in fixed_wls:
            order = ["mixcli", "floor"] if rep % 2 == 0 else ["floor", "mixcli"]
            for c in order:
                out = outroot / f"{wl}_{c}_{nf}"
                warm_page_cache(datas[wl, nf])
                warm_code(c)
                res.add((wl, c, nf), run_timed(fmt_cmd(WORKLOADS[wl]["contenders"][c], datas[wl, nf], out), out, nf))
    if not only_ops:
        log(f"bench: --help and fixed-cost runs done ({time.perf_counter() - t_start:.0f} s)")

    # Main timings: every repetition runs every contender once per (workload, size), rotated.
    nreps = max(args.reps, args.op_reps)
    for rep in range(nreps):
        for wl, cands in plan.items():
            for n in sizes[wl]:
                cmds = {c: t for c, t in cands.items() if runs_in(wl, c, rep)}
                if wl == "a" and n == sizes["a"][1] and "mixcli" in cmds:
                    cmds["mixcli-w1"] = cands["mixcli"] + w1
                    cmds["floor-w1"] = cands["floor"] + w1
                    if not w2_reused:
                        cmds["mixcli-w2"] = cands["mixcli"] + ["--workers", "2"]
                names = list(cmds)
                k = rep % len(names)
                for c in names[k:] + names[:k]:
                    out = outroot / f"{wl}_{c.replace(' ', '_')}_{n}"
                    warm_page_cache(datas[wl, n])
                    warm_code(c)
                    r = run_timed(fmt_cmd(cmds[c], datas[wl, n], out), out, n)
                    res.add((wl, c, n), r)
                    log(f"  rep {rep + 1}/{nreps}  {wl} n={n:<5} {c:<16} {r.wall:7.2f} s  cpu {r.cpu:6.2f} s  rss {r.maxrss_kib / 1024:5.0f} MiB  other load {100 * r.foreign:3.0f}%  iowait {100 * r.iowait:3.0f}%")

    # Last: loading numba here would raise the peak RSS that every later child inherits.
    mic = {}
    if not only_ops:
        log("bench: kernel micro-benchmarks ...")
        mic = micro(datas["b", sizes["b"][0]])
    load1 = loadavg()
    elapsed = time.perf_counter() - t_start

    # ------------------------------------------------------------------ derived figures
    figs = []  # (name, value text, target text, ok)

    def slope(wl, c, attr="wall"):
        n0, n1 = sizes[wl]
        return (res.med((wl, c, n1), attr) - res.med((wl, c, n0), attr)) / (n1 - n0)

    def cost_vs_floor(wl, c, target, cpu_inline=False):
        """Per-image cost (slope) of c / the floor's, with the paired ratio; the CPU-time ratio
        in the same cell (cpu_inline) or as a row of its own."""
        n0, n1 = sizes[wl]
        sm, sf = slope(wl, c), slope(wl, "floor")
        delta = lambda k, r: res.wall((wl, k, n1), r) - res.wall((wl, k, n0), r)  # noqa: E731
        pr = res.paired(lambda r: delta(c, r) / delta("floor", r), [(wl, k, n) for k in (c, "floor") for n in (n0, n1)])
        cm, cf = slope(wl, c, "cpu"), slope(wl, "floor", "cpu")
        val = f"{1000 * sm:.2f} / {1000 * sf:.2f} ms = {sm / sf:.2f}x (paired: {pr:.2f}x)"
        if cpu_inline:
            val += f"; CPU {1000 * cm:.2f} / {1000 * cf:.2f} ms = {cm / cf:.2f}x"
        figs.append((f"{wl}: per-image cost {c} / floor (slope {n0}→{n1})", val, f"<= {target:.2f}x", sm / sf <= target))
        if not cpu_inline:
            figs.append((f"{wl}: per-image CPU time (user+sys) {c} / floor",
                         f"{1000 * cm:.2f} / {1000 * cf:.2f} ms = {cm / cf:.2f}x", "", None))

    for wl in WORKLOADS if not only_ops else ():
        cost_vs_floor(wl, "mixcli", TARGETS[wl])
        for c in WORKLOADS[wl]["contenders"]:
            if c not in ("mixcli", "floor"):
                figs.append((f"{wl}: per-image cost {c} (slope)", f"{1000 * slope(wl, c):.2f} ms", "", None))
    for op, target in OPS.items():
        cost_vs_floor(OPS_WORKLOAD, op_contender(op), target, cpu_inline=True)
    for wl in fixed_wls:
        d = res.med((wl, "mixcli", nf)) - res.med((wl, "floor", nf))
        figs.append((f"{wl}: fixed cost, {nf} photos: mixcli - floor",
                     f"{res.med((wl, 'mixcli', nf)):.2f} - {res.med((wl, 'floor', nf)):.2f} s = {d:.2f} s",
                     "<= 0.5 s" if wl == "a" else "", d <= 0.5 if wl == "a" else None))
    for wl in WORKLOADS if not only_ops else ():
        n_ratio = sizes[wl][0] if wl == "a" else sizes[wl][1]
        for c in WORKLOADS[wl]["contenders"]:
            if c in ("naive", "careful"):
                r = res.med((wl, c, n_ratio)) / res.med((wl, "mixcli", n_ratio))
                pr = res.paired(lambda k: res.wall((wl, c, n_ratio), k) / res.wall((wl, "mixcli", n_ratio), k),
                                [(wl, c, n_ratio), (wl, "mixcli", n_ratio)])
                tgt = c == "naive"
                figs.append((f"{wl}: {c} / mixcli, whole run on {n_ratio}", f"{r:.2f}x (paired: {pr:.2f}x)",
                             ">= 3x" if tgt else "", r >= 3 if tgt else None))
    if not only_ops:
        na1 = sizes["a"][1]
        t1 = res.med(("a", "mixcli-w1", na1))
        t2 = res.med(("a", "mixcli" if w2_reused else "mixcli-w2", na1))
        k2 = "mixcli" if w2_reused else "mixcli-w2"
        pr = res.paired(lambda r: res.wall(("a", "mixcli-w1", na1), r) / res.wall(("a", k2, na1), r),
                        [("a", "mixcli-w1", na1), ("a", k2, na1)])
        figs.append((f"a: --workers 2 vs --workers 1 on {na1}", f"{t1:.2f} / {t2:.2f} s = {t1 / t2:.2f}x (paired: {pr:.2f}x)",
                     ">= 1.8x", t1 / t2 >= 1.8))
        f1, f2 = res.med(("a", "floor-w1", na1)), res.med(("a", "floor", na1))
        figs.append((f"a: floor, --workers 1 vs {NCPU} (attainable)",
                     f"{f1:.2f} / {f2:.2f} s = {f1 / f2:.2f}x", "", None))
        c1, c2 = res.med(("a", "mixcli-w1", na1), "cpu"), res.med(("a", k2, na1), "cpu")
        figs.append(("a: mixcli CPU time, --workers 1 / 2 (same work)", f"{c1:.2f} / {c2:.2f} s", "", None))
        na0 = sizes["a"][0]
        r0, r1 = (res.med(("a", "mixcli", n), "maxrss_kib") / 1024 for n in (na0, na1))
        figs.append((f"a: peak RSS of mixcli, {na1} vs {na0} photos", f"{r1:.0f} / {r0:.0f} MiB = {r1 / r0:.2f}x", "<= 1.3x", r1 / r0 <= 1.3))
        hm = statistics.median(helps)
        figs.append(("mixcli --help wall time (median of 5)", f"{hm:.3f} s", "<= 0.25 s", hm <= 0.25))
        figs.append(("import of the JPEG decoder (simplejpeg) after numpy and cv2, median of 5",
                     f"{decoder_import:.4f} s", "<= 0.02 s", decoder_import <= 0.02))
        figs.append(("scaling 1→16 workers", "not measured (no 16-core machine available)", "", None))

    # ------------------------------------------------------------------ report
    contenders_all = ["mixcli", "floor", "naive", "careful", "mixcli-w1", "floor-w1"] + ([] if w2_reused else ["mixcli-w2"])
    rows = []  # (title, {column: key}): a row per workload and size, then per operation and size
    for wl, spec in WORKLOADS.items():
        for n in (nf,) + sizes[wl]:
            rows.append((f"{spec['title']}, {n} photos", {c: (wl, c, n) for c in contenders_all}))
        if wl == OPS_WORKLOAD:  # an operation's times in the mixcli column
            for op in OPS:
                for n in sizes[wl]:
                    rows.append((f"{spec['corpus']}, {op}, {n} photos", {"mixcli": (wl, op_contender(op), n)}))
    contenders_all = [c for c in contenders_all if any(cols.get(c) in res.runs for _, cols in rows)]
    time_rows, cpu_rows = [], []
    for title, cols in rows:
        keys = [cols.get(c) for c in contenders_all]
        if any(k in res.runs for k in keys):
            time_rows.append((title, [f"{res.med(k):.2f}" if k in res.runs else "" for k in keys]))
            cpu_rows.append((title, [f"{res.med(k, 'cpu'):.2f}" if k in res.runs else "" for k in keys]))

    noisy = max(res.spread(k) for k in res.runs)
    foreign = [r.foreign for rs in res.runs.values() for r in rs]
    foreign_med, foreign_max = statistics.median(foreign), max(foreign)
    iow = [r.iowait for rs in res.runs.values() for r in rs]
    iow_med, iow_max = statistics.median(iow), max(iow)
    vers = versions()
    header = [
        f"Benchmark run {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')} ({run_name} mode, {args.reps} repetitions"
        f"{f' ({args.op_reps} for the operations ' + ', '.join(OPS) + ')' if args.op_reps != args.reps else ''}, median; "
        f"{elapsed / 60:.1f} min in all)",
        f"CPU: {cpu_model()}, {NCPU} cores; " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        f"mixcli at git {git_rev(args.mixcli_rev, sha)}; command: {' '.join(MIXCLI)}",
        f"load average (1 min) {load0:.2f} at start, {load1:.2f} at end; largest spread (max-min)/median of any "
        f"contender: {100 * noisy:.0f}%; other processes' share of the {NCPU} cores during the timed runs: "
        f"median {100 * foreign_med:.0f}%, max {100 * foreign_max:.0f}%; iowait: median {100 * iow_med:.0f}%, "
        f"max {100 * iow_max:.0f}%",
    ]

    # Console.
    print()
    for h in header:
        print(h)
    print("\nWall clock, seconds (median):")
    print(f"  {'':58s}" + "".join(f"{c:>11s}" for c in contenders_all))
    for title, cells in time_rows:
        print(f"  {title:58s}" + "".join(f"{x:>11s}" for x in cells))
    print("\nCPU seconds, user+sys (median):")
    for title, cells in cpu_rows:
        print(f"  {title:58s}" + "".join(f"{x:>11s}" for x in cells))
    print("\nDerived figures:")
    wn, wv = (max(len(f[i]) for f in figs) for i in (0, 1))
    for name, val, tgt, ok in figs:
        print(f"  {name:{wn}s} {val:{wv}s} {tgt:10s} {verdict(ok)}")
    if mic:
        print("\nKernels on a 2016x1512x3 uint8 photo, cv2.setNumThreads(1), median of 30, ms:")
        for k, v in mic.items():
            print(f"  {k:20s} {v:8.3f}")
        print(f"  blend / addWeighted = {mic['blend'] / mic['addWeighted']:.2f}x; paste / slice: full "
              f"{mic['paste full'] / mic['slice full']:.2f}x, 1/4 box {mic['paste 1/4 box'] / mic['slice 1/4 box']:.2f}x")
    if foreign_med > 0.05 or foreign_max > 0.25 or noisy > 0.15 or iow_max > 0.1:
        print("\nNOTE: the machine was busy or waiting on I/O (see the header): timings are noisy.")

    # Markdown.
    md = [f"# mixcli benchmark ({run_name})", ""] + [f"- {h}" for h in header] + [""]
    md += ["| measure | result | target | verdict |", "|---|---|---|---|"]
    md += [f"| {n} | {v} | {t} | {verdict(ok)} |" for n, v, t, ok in figs]
    md += ["", "Wall clock, seconds, median of the repetitions (`-w1`: `--workers 1`; "
           f"the default of mixcli and floor is all {NCPU} cores; a row named after an operation: "
           "`mixcli OP` with its defaults, in the mixcli column):", ""]
    md += ["| workload | " + " | ".join(contenders_all) + " |", "|---" * (len(contenders_all) + 1) + "|"]
    md += [f"| {t} | " + " | ".join(c or "" for c in cells) + " |" for t, cells in time_rows]
    md += ["", "CPU seconds (user+sys of the process and its children), median:", ""]
    md += ["| workload | " + " | ".join(contenders_all) + " |", "|---" * (len(contenders_all) + 1) + "|"]
    md += [f"| {t} | " + " | ".join(c or "" for c in cells) + " |" for t, cells in cpu_rows]
    if mic:
        md += ["", "Kernels on a 2016x1512x3 uint8 photo, `cv2.setNumThreads(1)`, median of 30:", ""]
        md += ["| kernel | ms | vs reference |", "|---|---|---|"]
        ref = {"blend": "addWeighted", "numpy float blend": "addWeighted", "paste full": "slice full", "paste 1/4 box": "slice 1/4 box",
               "decode simplejpeg": "decode cv2.imdecode"}
        for k, v in mic.items():
            md.append(f"| {k} | {v:.3f} | " + (f"{v / mic[ref[k]]:.2f}x {ref[k]}" if k in ref else "") + " |")
    md.append("")
    results_md.parent.mkdir(parents=True, exist_ok=True)
    results_md.write_text("\n".join(md))

    raw_dir = HERE / "runs"
    raw_dir.mkdir(exist_ok=True)
    raw = {
        "mode": run_name, "reps": args.reps, "op_reps": args.op_reps, "header": header, "help_s": helps, "micro_ms": mic,
        "runs": {f"{wl}|{c}|{n}": [r.__dict__ for r in rs] for (wl, c, n), rs in res.runs.items()},
        "figures": [{"name": n, "value": v, "target": t, "ok": ok} for n, v, t, ok in figs],
    }
    raw_path = raw_dir / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{run_name}.json"
    raw_path.write_text(json.dumps(raw, indent=1))
    print(f"\nwrote {results_md.relative_to(REPO) if results_md.is_relative_to(REPO) else results_md} and "
          f"{raw_path.relative_to(REPO)}; {elapsed:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())

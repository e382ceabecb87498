#!/usr/bin/env python3
"""Issue 18's benchmark: what detection boxes cost, and mosaic / resizemix against an OpenCV floor.

    python bench/detection.py --quick     # 100 / 300 photos, 3 repetitions (~9 min on 2 cores)
    python bench/detection.py             # 200 / 1000 photos, 5 repetitions (~25 min on 2 busy cores)
    python bench/detection.py --only boxes --workers 2 --reps 7

Workload (a): the 500x375 JPEGs of bench/corpus/ (make_corpus.py), and a YOLO version of the same
files (bench/corpus/a500x375_n<N>_yolo_v1/: images/ hard links to the same photos, named
<index>_<class>.jpg so that their sorted order is the CSV's row order, hence the same seed pairs
the same images in both; labels/<same>.txt with 5 seeded random objects each; data.yaml).

Two studies, each timed at every --workers (default 1 and 2), contenders alternating in an order
rotated by one each repetition, each run a subprocess writing into a fresh folder under
/tmp/bench_det/, its corpus read into the page cache and its code loaded first (untimed), `sync`
before it (as bench/run.py does):

  boxes   `mixcli OP DATA OUT` for OP in mosaic, cutmix: on the CSV corpus (no boxes) and on the
          YOLO corpus with --layout yolo (boxes), same seed, same images, same partners.
          Figure: per-image cost (slope between the two sizes) with boxes / without. Target <= 1.10x.
  floor   `mixcli OP` for OP in mosaic, resizemix (CSV corpus) against `detection.py floor OP`, a
          plain OpenCV script doing the same work a row: cv2.imread the row's image and its
          partners (the next rows of a seeded shuffle's cycle of 16, as mixcli pairs them; each
          image decoded once per cycle, as mixcli does: `--floor-decodes once`), cv2.resize with
          INTER_AREA into the quadrants (mosaic: centre U[0.25, 0.75] of each side) or the box
          (resizemix: tau ~ U[0.1, 0.8] of each side, centre uniform, clipped), a slice paste,
          cv2.imwrite at JPEG quality 95; ThreadPoolExecutor of --workers threads over the cycles,
          cv2.setNumThreads(1). Figure: per-image cost mixcli / floor. Target <= 1.10x.
          `--floor-decodes each` (or `both`) adds a floor that decodes every source of every
          row again (mosaic: 4 decodes an output, resizemix: 2): more work than mixcli does.

Per-image cost = (median wall on the large corpus - median on the small) / (difference in photos),
so start-up is apart; "paired" = the median over repetitions of the same ratio from the runs of
one repetition (cancels slow drift). CPU = the same slope on user+sys CPU time of the child.
Writes bench/runs/DETECTION-<mode>.md and bench/runs/<date>-detection-<mode>.json.

    python bench/detection.py floor mosaic|resizemix DATA OUT [--workers N] [--seed S] [--decodes once|each]

is the floor script itself (DATA a Kaggle-style folder with train.csv, as bench/baselines.py reads).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import run as benchrun  # noqa: E402  (stdlib only at import: this process stays small)
from run import Run, cpu_model, git_rev, mixcli_cmd, run_timed  # noqa: E402

WORK = Path("/tmp/bench_det")
PY = sys.executable
MIXCLI = mixcli_cmd()
ME = str(Path(__file__).resolve())
NCPU = os.cpu_count() or 1
OBJECTS = 5  # per image
YOLO_SEED = 1818
TARGET = 1.10
SIZES = {"full": (200, 1000), "quick": (100, 300)}
WARM_N = 10

# The floor's draws, as mixcli's defaults.
CHUNK = 16  # mixcli.plan.CHUNK: rows are paired inside cycles of 16 of a seeded shuffle
SOURCES = {"mosaic": 4, "resizemix": 2}


# --------------------------------------------------------------------------- the floor script


def floor_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="detection.py floor", description="The plain OpenCV floor of mosaic / resizemix.")
    ap.add_argument("op", choices=sorted(SOURCES))
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--workers", type=int, default=0, help="threads [all cores]")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--decodes", choices=["once", "each"], default="once",
                    help="once: each image decoded once per cycle (as mixcli); each: every source of every row decoded")
    args = ap.parse_args(argv)

    from concurrent.futures import ThreadPoolExecutor

    import cv2
    import numpy as np

    from baselines import QUALITY, out_name, read_rows

    cv2.setNumThreads(1)
    rows, img_dir = read_rows(args.data)
    n = len(rows)
    k_src = SOURCES[args.op]
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(n)
    chunks = [order[i : i + CHUNK] for i in range(0, n, CHUNK)]
    if len(chunks) > 1 and len(chunks[-1]) < k_src:
        chunks[-2:] = [np.concatenate(chunks[-2:])]
    u = rng.random((n, 2))
    tau = rng.uniform(0.1, 0.8, n)
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, QUALITY]

    def resize(img, w: int, h: int):
        if (img.shape[1], img.shape[0]) == (w, h):
            return img
        interp = cv2.INTER_AREA if w * h < img.shape[0] * img.shape[1] else cv2.INTER_LINEAR
        return cv2.resize(img, (w, h), interpolation=interp)

    def mosaic(imgs, r):
        h, w = imgs[0].shape[:2]
        cx = int(w * 0.25) + min(int(u[r, 0] * (int(w * 0.75) - int(w * 0.25) + 1)), int(w * 0.75) - int(w * 0.25))
        cy = int(h * 0.25) + min(int(u[r, 1] * (int(h * 0.75) - int(h * 0.25) + 1)), int(h * 0.75) - int(h * 0.25))
        out = np.empty((h, w, 3), np.uint8)
        for img, (y1, y2, x1, x2) in zip(imgs, ((0, cy, 0, cx), (0, cy, cx, w), (cy, h, 0, cx), (cy, h, cx, w))):
            if y2 > y1 and x2 > x1:
                out[y1:y2, x1:x2] = resize(img, x2 - x1, y2 - y1)
        return out

    def resizemix(imgs, r):
        a, b = imgs
        h, w = a.shape[:2]
        ch, cw = int(h * tau[r]), int(w * tau[r])
        cy, cx = min(int(u[r, 0] * h), h - 1), min(int(u[r, 1] * w), w - 1)
        y1, y2 = min(max(cy - ch // 2, 0), h), min(max(cy + ch // 2, 0), h)
        x1, x2 = min(max(cx - cw // 2, 0), w), min(max(cx + cw // 2, 0), w)
        if y2 > y1 and x2 > x1:
            a[y1:y2, x1:x2] = resize(b, x2 - x1, y2 - y1)  # a is this row's own decode: painted in place
        return a

    paint = mosaic if args.op == "mosaic" else resizemix

    def cycle(idx) -> list[tuple[int, str]]:
        idx = [int(i) for i in idx]
        decoded: dict[int, object] = {}

        def image(i: int, own: bool, pos: int):
            if args.decodes == "each":
                return cv2.imread(str(img_dir / rows[i]["image"]), cv2.IMREAD_COLOR)
            if i not in decoded:
                decoded[i] = cv2.imread(str(img_dir / rows[i]["image"]), cv2.IMREAD_COLOR)
            # resizemix paints into the row's own image: a copy only for the cycle's first, still the last row's partner
            return decoded[i].copy() if own and pos == 0 and args.op == "resizemix" else decoded[i]

        done = []
        m = len(idx)
        for pos, i in enumerate(idx):
            srcs = [idx[(pos + k) % m] for k in range(k_src)]
            out = paint([image(j, k == 0, pos) for k, j in enumerate(srcs)], i)
            name = out_name(i, rows[i]["image"])
            cv2.imwrite(str(args.out / name), out, params)
            done.append((i, name))
        return done

    names = [""] * n
    with ThreadPoolExecutor(args.workers or os.cpu_count()) as ex:
        for got in ex.map(cycle, chunks):
            for i, name in got:
                names[i] = name
    with open(args.out / "train.csv", "w") as f:
        f.write("image,label\n")
        f.writelines(f"{name},{r['label']}\n" for name, r in zip(names, rows))
    return 0


# --------------------------------------------------------------------------- corpora


def csv_corpora(ns) -> dict[int, Path]:
    """The Kaggle-style (a) corpora of make_corpus.py (built in a subprocess if missing)."""
    made = subprocess.run([PY, str(HERE / "make_corpus.py"), "a", *map(str, ns)], stdout=subprocess.PIPE, text=True, check=True).stdout
    return {n: Path(line.split("\t")[0]) for n, line in zip(ns, made.splitlines())}


def yolo_corpus(csv_data: Path) -> Path:
    """The YOLO twin of a CSV corpus: images/<index>_<label>.jpg hard links to the same photos (copies
    if linking fails), labels/<same>.txt with OBJECTS random boxes (seeded by the index: the same
    objects in every size), data.yaml. Built once (a .complete marker)."""
    import csv
    import random

    data = csv_data.with_name(csv_data.name.replace("_v1", "_yolo_v1"))
    if (data / ".complete").is_file():
        return data
    with open(csv_data / "train.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    classes = sorted({r["label"] for r in rows})
    if data.exists():
        shutil.rmtree(data)
    (data / "images").mkdir(parents=True)
    (data / "labels").mkdir()
    for i, r in enumerate(rows):
        stem = f"{i:06d}_{r['label']}"
        src = csv_data / "train" / r["image"]
        try:
            os.link(src, data / "images" / f"{stem}.jpg")
        except OSError:
            shutil.copyfile(src, data / "images" / f"{stem}.jpg")
        rng = random.Random(YOLO_SEED * 1_000_003 + i)
        lines = []
        for _ in range(OBJECTS):
            w, h = rng.uniform(0.05, 0.5), rng.uniform(0.05, 0.5)
            cx, cy = rng.uniform(w / 2, 1 - w / 2), rng.uniform(h / 2, 1 - h / 2)
            lines.append(f"{rng.randrange(len(classes))} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
        (data / "labels" / f"{stem}.txt").write_text("".join(lines))
    (data / "data.yaml").write_text("names:\n" + "".join(f"  {k}: {c}\n" for k, c in enumerate(classes)))
    (data / ".complete").write_text("ok\n")
    return data


def coco_corpus(yolo: Path) -> Path:
    """The COCO twin of a YOLO corpus: the same images (hard links) and objects, in annotations.json
    (boxes in pixels of the 500x375 photos): boxes carried without a file an image."""
    data = yolo.with_name(yolo.name.replace("_yolo_v1", "_coco_v1"))
    if (data / ".complete").is_file():
        return data
    if data.exists():
        shutil.rmtree(data)
    (data / "images").mkdir(parents=True)
    names = yaml_names(yolo / "data.yaml")
    doc = {"images": [], "annotations": [], "categories": [{"id": k, "name": v} for k, v in names.items()]}
    for k, img in enumerate(sorted((yolo / "images").iterdir())):
        try:
            os.link(img, data / "images" / img.name)
        except OSError:
            shutil.copyfile(img, data / "images" / img.name)
        w, h = 500, 375
        doc["images"].append({"id": k + 1, "file_name": img.name, "width": w, "height": h})
        for line in (yolo / "labels" / f"{img.stem}.txt").read_text().splitlines():
            c, cx, cy, bw, bh = line.split()
            x, y = (float(cx) - float(bw) / 2) * w, (float(cy) - float(bh) / 2) * h
            doc["annotations"].append({"id": len(doc["annotations"]) + 1, "image_id": k + 1, "category_id": int(c),
                                       "bbox": [x, y, float(bw) * w, float(bh) * h], "iscrowd": 0})
    (data / "annotations.json").write_text(json.dumps(doc))
    (data / ".complete").write_text("ok\n")
    return data


def yaml_names(path: Path) -> dict:
    return {int(k): v.strip() for k, v in (line.strip().split(":", 1) for line in path.read_text().splitlines()[1:] if line.strip())}


def warm_files(data: Path) -> None:
    """Read every file of a corpus (images and labels) into the page cache."""
    for sub in ("train", "images", "labels"):
        if (data / sub).is_dir():
            for f in os.scandir(data / sub):
                with open(f.path, "rb") as fh:
                    while fh.read(1 << 20):
                        pass


# --------------------------------------------------------------------------- timing


def contenders(study: str, workers: int, decodes: list[str]) -> dict:
    """name -> (corpus kind 'csv'|'yolo', command template with {data} {out}, code to warm)."""
    w = ["--workers", str(workers)]
    mix = lambda op, *extra: MIXCLI + [op, "{data}", "{out}", "--quiet", "--overwrite", "--seed", "0", *extra, *w]  # noqa: E731
    if study == "boxes":
        c = {}
        for op in ("mosaic", "cutmix"):
            c[f"{op} no boxes"] = ("csv", mix(op, "--layout", "csv"), "mixcli")
            c[f"{op} boxes"] = ("yolo", mix(op, "--layout", "yolo"), "mixcli")
            c[f"{op} boxes (coco)"] = ("coco", mix(op, "--layout", "coco"), "mixcli")
        return c
    c = {}
    for op in ("mosaic", "resizemix"):
        c[f"mixcli {op}"] = ("csv", mix(op), "mixcli")
        for d in decodes:
            name = f"floor {op}" + ("" if d == "once" else f" ({SOURCES[op]} decodes)")
            c[name] = ("csv", [PY, ME, "floor", op, "{data}", "{out}", "--seed", "0", "--decodes", d, *w], "floor")
    return c


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["floor"]:
        return floor_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100 / 300 photos, 3 repetitions")
    ap.add_argument("--reps", type=int, default=None, help="repetitions [full 5, quick 3]")
    ap.add_argument("--sizes", type=int, nargs=2, default=None, metavar=("SMALL", "LARGE"), help="[full 200 1000; quick 100 300]")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="--workers of every contender [1 2]")
    ap.add_argument("--only", choices=["boxes", "floor"], default=None, help="run one study")
    ap.add_argument("--floor-decodes", choices=["once", "each", "both"], default="once",
                    help="the floor decodes each image once per cycle (as mixcli), or every source of every row, or both floors")
    ap.add_argument("--results", type=Path, default=None, help="markdown output [bench/runs/DETECTION-<mode>.md]")
    args = ap.parse_args(argv)
    mode = "quick" if args.quick else "full"
    reps = args.reps or (3 if args.quick else 5)
    sizes = tuple(args.sizes or SIZES[mode])
    studies = [args.only] if args.only else ["boxes", "floor"]
    decodes = ["once", "each"] if args.floor_decodes == "both" else [args.floor_decodes]
    results_md = args.results or HERE / "runs" / f"DETECTION-{mode}.md"
    log = lambda s: print(s, flush=True)  # noqa: E731
    t_start = time.perf_counter()
    load0 = os.getloadavg()[0]
    rev0 = git_rev()  # at the start: the lead may commit or edit mixcli/ during a run

    benchrun.WORK = WORK  # run_timed's stderr file
    WORK.mkdir(parents=True, exist_ok=True)
    outroot = WORK / "out"
    shutil.rmtree(outroot, ignore_errors=True)
    outroot.mkdir()

    csvs = csv_corpora((WARM_N,) + sizes)
    log("bench: building / checking the YOLO corpora ...")
    datas = {("csv", n): d for n, d in csvs.items()}
    datas.update({("yolo", n): yolo_corpus(d) for n, d in csvs.items()})
    datas.update({("coco", n): coco_corpus(datas["yolo", n]) for n in csvs})
    for d in sorted(set(datas.values())):
        warm_files(d)

    # Byte-compile mixcli (as pip install does) and load its code and numba cache once.
    subprocess.run([PY, "-c", "import compileall, os, mixcli; compileall.compile_dir(os.path.dirname(mixcli.__file__), quiet=1)"], check=True, cwd="/")
    benchrun.warm_code("mixcli")

    # Every contender once on WARM_N photos; the boxes runs checked to carry boxes.
    plan = {(s, w): contenders(s, w, decodes) for s in studies for w in args.workers}
    log(f"bench: mixcli = {' '.join(MIXCLI)}; warming up ({sum(len(c) for c in plan.values())} contenders) ...")
    for (s, w), cands in plan.items():
        for name, (kind, tmpl, _) in cands.items():
            out = outroot / "warm"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [a.format(data=datas[kind, WARM_N], out=out) for a in tmpl]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                sys.stderr.write(p.stderr[-3000:])
                raise SystemExit(f"bench: warm-up failed: {' '.join(cmd)}")
            got = len(os.listdir(out / "images"))
            if got != WARM_N:
                raise SystemExit(f"bench: {' '.join(cmd)} wrote {got} images, expected {WARM_N}")
            if kind == "yolo":
                labels = list((out / "labels").iterdir())
                boxes = sum(len(f.read_text().splitlines()) for f in labels)
                if len(labels) != WARM_N or not (out / "data.yaml").is_file() or boxes < WARM_N:
                    raise SystemExit(f"bench: {' '.join(cmd)} wrote {len(labels)} label files, {boxes} boxes: expected boxes")

    runs: dict = {}  # (study, workers, contender, n) -> [Run]
    for rep in range(reps):
        for (s, w), cands in plan.items():
            for n in sizes:
                names = list(cands)
                k = rep % len(names)
                for c in names[k:] + names[:k]:
                    kind, tmpl, code = cands[c]
                    data = datas[kind, n]
                    out = outroot / f"{s}_w{w}_{c.replace(' ', '_').replace('(', '').replace(')', '')}_{n}"
                    warm_files(data)
                    benchrun.warm_code(code)
                    r = run_timed([a.format(data=data, out=out) for a in tmpl], out, n)
                    runs.setdefault((s, w, c, n), []).append(r)
                    log(f"  rep {rep + 1}/{reps}  {s:<5} w{w} n={n:<5} {c:<28} {r.wall:7.2f} s  cpu {r.cpu:6.2f} s  "
                        f"other load {100 * r.foreign:3.0f}%  iowait {100 * r.iowait:3.0f}%")
    elapsed = time.perf_counter() - t_start
    load1 = os.getloadavg()[0]

    # ------------------------------------------------------------------ figures
    n0, n1 = sizes
    med = lambda key, attr="wall": statistics.median(getattr(r, attr) for r in runs[key])  # noqa: E731

    def slope(s, w, c, attr="wall"):
        return (med((s, w, c, n1), attr) - med((s, w, c, n0), attr)) / (n1 - n0)

    def paired(s, w, c, ref):
        d = lambda k, r: runs[s, w, k, n1][r].wall - runs[s, w, k, n0][r].wall  # noqa: E731
        return statistics.median(d(c, r) / d(ref, r) for r in range(reps))

    figs = []  # (measure, contender ms, reference ms, ratio text, cpu text, target, ok)
    for (s, w), cands in plan.items():
        pairs = ([(f"{op} boxes{k}", f"{op} no boxes") for op in ("mosaic", "cutmix") for k in ("", " (coco)")] if s == "boxes" else
                 [(f"mixcli {op}", f) for op in ("mosaic", "resizemix") for f in cands if f.startswith(f"floor {op}")])
        for c, ref in pairs:
            sc, sr = slope(s, w, c), slope(s, w, ref)
            cc, cr = slope(s, w, c, "cpu"), slope(s, w, ref, "cpu")
            graded = s == "boxes" or "decodes)" not in ref
            figs.append({
                "study": s, "workers": w, "contender": c, "reference": ref,
                "ms": 1000 * sc, "ref_ms": 1000 * sr, "ratio": sc / sr, "paired": paired(s, w, c, ref),
                "cpu_ms": 1000 * cc, "cpu_ref_ms": 1000 * cr, "cpu_ratio": cc / cr,
                "target": TARGET if graded else None, "ok": (sc / sr <= TARGET) if graded else None,
            })

    foreign = [r.foreign for rs in runs.values() for r in rs]
    iow = [r.iowait for rs in runs.values() for r in rs]
    spread = max((max(r.wall for r in rs) - min(r.wall for r in rs)) / statistics.median(r.wall for r in rs) for rs in runs.values())
    vers = subprocess.run([PY, "-c", "import cv2, numpy, simplejpeg, mixcli; print(f'numpy {numpy.__version__}, opencv {cv2.__version__}, "
                           "simplejpeg {simplejpeg.__version__}, mixcli {mixcli.__version__}')"], capture_output=True, text=True, cwd="/").stdout.strip()
    header = [
        f"Detection benchmark {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')} ({mode} mode, {reps} repetitions, "
        f"median; {elapsed / 60:.1f} min in all)",
        f"Machine: {cpu_model()}, {NCPU} cores; {platform.platform()}; Python {platform.python_version()}; {vers}",
        f"mixcli at git {rev0}" + ("" if git_rev() == rev0 else f" at the start, {git_rev()} at the end") + f"; command: {' '.join(MIXCLI)}",
        f"Workload (a): {n0} and {n1} photos of 500x375 (bench/corpus/), the YOLO twin with {OBJECTS} objects an image; "
        f"--workers {' and '.join(map(str, args.workers))}",
        f"load average (1 min) {load0:.2f} at start, {load1:.2f} at end; largest spread (max-min)/median of any contender: "
        f"{100 * spread:.0f}%; other processes' share of the cores: median {100 * statistics.median(foreign):.0f}%, max "
        f"{100 * max(foreign):.0f}%; iowait: median {100 * statistics.median(iow):.0f}%, max {100 * max(iow):.0f}%",
    ]
    verdict = lambda ok: "—" if ok is None else ("PASS" if ok else "FAIL")  # noqa: E731
    md = [f"# mixcli detection benchmark ({mode})", ""] + [f"- {h}" for h in header] + [""]
    md += [f"Per-image cost = slope of median wall time between {n0} and {n1} photos; paired = median of the "
           "repetitions' own ratios; CPU = the same slope of user+sys time.", ""]
    md += ["| measure | workers | per-image ms | reference ms | ratio (paired) | CPU ms / reference = ratio | target | verdict |",
           "|---|---|---|---|---|---|---|---|"]
    for f in figs:
        what = (f"{f['contender'].split()[0]}: boxes{' (coco)' if 'coco' in f['contender'] else ' (yolo)'} / no boxes" if f["study"] == "boxes" else f"{f['contender']} / {f['reference']}")
        md.append(f"| {what} | {f['workers']} | {f['ms']:.3f} | {f['ref_ms']:.3f} | {f['ratio']:.2f}x ({f['paired']:.2f}x) | "
                  f"{f['cpu_ms']:.2f} / {f['cpu_ref_ms']:.2f} = {f['cpu_ratio']:.2f}x | "
                  f"{'<= %.2fx' % f['target'] if f['target'] else 'info'} | {verdict(f['ok'])} |")
    md += ["", "Wall / CPU seconds, median:", "", f"| study | workers | contender | {n0} photos | {n1} photos |", "|---|---|---|---|---|"]
    for (s, w), cands in plan.items():
        for c in cands:
            md.append(f"| {s} | {w} | {c} | " + " | ".join(f"{med((s, w, c, n)):.2f} / {med((s, w, c, n), 'cpu'):.2f}" for n in sizes) + " |")
    md.append("")
    text = "\n".join(md)
    print("\n" + text)
    results_md.parent.mkdir(parents=True, exist_ok=True)
    results_md.write_text(text)
    raw_path = HERE / "runs" / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-detection-{mode}.json"
    raw_path.write_text(json.dumps({
        "mode": mode, "reps": reps, "sizes": sizes, "workers": args.workers, "header": header, "figures": figs,
        "runs": {f"{s}|{w}|{c}|{n}": [r.__dict__ for r in rs] for (s, w, c, n), rs in runs.items()},
    }, indent=1))
    shutil.rmtree(outroot, ignore_errors=True)
    print(f"wrote {results_md.relative_to(REPO) if results_md.is_relative_to(REPO) else results_md} and {raw_path.relative_to(REPO)}; "
          f"{elapsed:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())

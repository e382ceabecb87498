#!/usr/bin/env python3
"""Reference scripts that mixcli is timed against, written the way users write them.

    python bench/baselines.py naive   DATA OUT [--op mixup|cutmix] [--alpha A] [--prob P] [--size WxH]
    python bench/baselines.py careful DATA OUT [same options] [--workers N]
    python bench/baselines.py floor   DATA OUT [--size WxH] [--workers N]

DATA is a Kaggle-style folder (DATA/train.csv with columns image,label beside DATA/train/).
Every script writes OUT/images/<row>_<stem>.jpg (JPEG quality 95, as mixcli's default)
and OUT/train.csv.

naive    one row at a time: a random partner per row, both decoded with cv2.imread (the
         partner is decoded again for every output), float NumPy blend lam*a + (1-lam)*b
         (cutmix: a box pasted with a slice assignment), cv2.imwrite, a CSV of soft labels.
careful  the same work on a multiprocessing Pool over rows, cv2.addWeighted for the blend;
         still two decodes per output.
floor    no mixing at all, the plainest script: cv2.imread each input (with JPEG DCT
         reduction when shrinking >= 2x, as mixcli does), resized if asked (INTER_AREA),
         cv2.imwrite straight into OUT; ThreadPoolExecutor on all cores with
         cv2.setNumThreads(1). The least work any tool must do with OpenCV to turn N inputs
         into N outputs: mixcli's per-image cost is compared with it.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import cv2
import numpy as np

QUALITY = 95


def read_rows(data: Path) -> tuple[list[dict], Path]:
    with open(data / "train.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    img_dir = data / "train" if (data / "train").is_dir() else data
    return rows, img_dir


def out_name(i: int, image: str) -> str:
    return f"images/{i:06d}_{Path(image).stem}.jpg"


def parse_size(text: str | None):
    if not text:
        return None
    w, h = text.lower().split("x")
    return int(w), int(h)


def cutmix_box(h: int, w: int, lam: float, rng) -> tuple[int, int, int, int]:
    """The usual CutMix box: cut ratio sqrt(1-lam), centre uniform, clipped."""
    r = np.sqrt(1.0 - lam)
    cut_h, cut_w = int(h * r), int(w * r)
    cy, cx = rng.integers(h), rng.integers(w)
    y1, y2 = np.clip([cy - cut_h // 2, cy + cut_h // 2], 0, h)
    x1, x2 = np.clip([cx - cut_w // 2, cx + cut_w // 2], 0, w)
    return int(y1), int(y2), int(x1), int(x2)


def write_soft_csv(out: Path, names, rows, classes, weights) -> None:
    with open(out / "train.csv", "w", newline="") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["image", "label"] + [f"p_{c}" for c in classes])
        for name, w in zip(names, weights):
            wr.writerow([name, classes[int(np.argmax(w))]] + [f"{v:.6g}" for v in w])


# --------------------------------------------------------------------------- naive


def naive(args) -> None:
    rows, img_dir = read_rows(args.data)
    classes = sorted({r["label"] for r in rows})
    cls = {c: k for k, c in enumerate(classes)}
    size = parse_size(args.size)
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    names, weights = [], []
    for i, row in enumerate(rows):
        a = cv2.imread(str(img_dir / row["image"]))
        if size:
            a = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
        y = np.zeros(len(classes))
        y[cls[row["label"]]] = 1.0
        if rng.random() < args.prob:
            j = int(rng.integers(len(rows)))
            b = cv2.imread(str(img_dir / rows[j]["image"]))
            b = cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
            lam = rng.beta(args.alpha, args.alpha)
            if args.op == "mixup":
                out = (lam * a.astype(np.float64) + (1 - lam) * b.astype(np.float64)).round().astype(np.uint8)
            else:
                h, w = a.shape[:2]
                y1, y2, x1, x2 = cutmix_box(h, w, lam, rng)
                out = a.copy()
                out[y1:y2, x1:x2] = b[y1:y2, x1:x2]
                lam = 1 - (y2 - y1) * (x2 - x1) / (h * w)
            y = lam * y
            y[cls[rows[j]["label"]]] += 1 - lam
        else:
            out = a
        name = out_name(i, row["image"])
        cv2.imwrite(str(args.out / name), out, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
        names.append(name)
        weights.append(y)
    write_soft_csv(args.out, names, rows, classes, weights)


# --------------------------------------------------------------------------- careful

_G: dict = {}


def _init(img_dir, size, op, out):
    cv2.setNumThreads(1)
    _G.update(img_dir=img_dir, size=size, op=op, out=out)


def _careful_one(task):
    i, image, partner, lam, u = task
    img_dir, size = _G["img_dir"], _G["size"]
    a = cv2.imread(str(img_dir / image))
    if size:
        a = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
    box = None
    if partner is not None:
        b = cv2.imread(str(img_dir / partner))
        if b.shape != a.shape:
            b = cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
        if _G["op"] == "mixup":
            out = cv2.addWeighted(a, lam, b, 1 - lam, 0)
        else:
            h, w = a.shape[:2]
            box = cutmix_box(h, w, lam, np.random.default_rng(u))
            y1, y2, x1, x2 = box
            out = a
            out[y1:y2, x1:x2] = b[y1:y2, x1:x2]
            lam = 1 - (y2 - y1) * (x2 - x1) / (h * w)
    else:
        out = a
    name = out_name(i, image)
    cv2.imwrite(str(_G["out"] / name), out, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    return i, name, lam


def careful(args) -> None:
    from multiprocessing import Pool

    rows, img_dir = read_rows(args.data)
    classes = sorted({r["label"] for r in rows})
    cls = {c: k for k, c in enumerate(classes)}
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    n = len(rows)
    mixed = rng.random(n) < args.prob
    partners = rng.integers(n, size=n)
    lams = rng.beta(args.alpha, args.alpha, size=n)
    seeds = rng.integers(2**63, size=n)
    tasks = [
        (i, r["image"], rows[partners[i]]["image"] if mixed[i] else None, float(lams[i]), int(seeds[i]))
        for i, r in enumerate(rows)
    ]
    names, weights = [None] * n, [None] * n
    workers = args.workers or os.cpu_count()
    with Pool(workers, initializer=_init, initargs=(img_dir, parse_size(args.size), args.op, args.out)) as pool:
        for i, name, lam in pool.imap_unordered(_careful_one, tasks, chunksize=8):
            y = np.zeros(len(classes))
            y[cls[rows[i]["label"]]] = 1.0
            if mixed[i]:
                y = lam * y
                y[cls[rows[partners[i]]["label"]]] += 1 - lam
            names[i], weights[i] = name, y
    write_soft_csv(args.out, names, rows, classes, weights)


# --------------------------------------------------------------------------- floor

_REDUCED = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def jpeg_hw(buf: bytes):
    """(height, width) from the SOF marker of a JPEG, or None."""
    if buf[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(buf):
        if buf[i] != 0xFF:
            return None
        m = buf[i + 1]
        if m == 0xFF:
            i += 1
            continue
        if 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(buf[i + 5 : i + 7], "big"), int.from_bytes(buf[i + 7 : i + 9], "big")
        i += 2 + int.from_bytes(buf[i + 2 : i + 4], "big")
    return None


def floor(args) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cv2.setNumThreads(1)
    rows, img_dir = read_rows(args.data)
    size = parse_size(args.size)
    (args.out / "images").mkdir(parents=True, exist_ok=True)

    def one(i: int) -> str:
        image = rows[i]["image"]
        path = str(img_dir / image)
        reduce = 1
        if size:
            with open(path, "rb") as f:
                hw = jpeg_hw(f.read(65536))
            if hw:
                while reduce < 8 and min(hw) // (reduce * 2) >= max(size):
                    reduce *= 2
        img = cv2.imread(path, _REDUCED[reduce])
        if size and (img.shape[1], img.shape[0]) != size:
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        name = out_name(i, image)
        cv2.imwrite(str(args.out / name), img, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
        return name

    with ThreadPoolExecutor(args.workers or os.cpu_count()) as ex:
        names = list(ex.map(one, range(len(rows)), chunksize=1))
    with open(args.out / "train.csv", "w", newline="") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["image", "label"])
        wr.writerows((n, r["label"]) for n, r in zip(names, rows))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("script", choices=["naive", "careful", "floor"])
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--op", choices=["mixup", "cutmix"], default="mixup")
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--prob", type=float, default=1.0)
    ap.add_argument("--size", default=None, help="WxH")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=0, help="careful/floor: processes/threads [all cores]")
    args = ap.parse_args(argv)
    {"naive": naive, "careful": careful, "floor": floor}[args.script](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

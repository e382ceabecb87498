#!/usr/bin/env python3
"""Rebuild the mixcli sample dataset (sample_data/train/ + sample_data/train.csv).

The images are crops of four photos shipped in the scikit-image wheel
(skimage/data/), all marked public domain or CC0 there; see SOURCES.md.
scikit-image itself is NOT needed: only its data files are read.

Usage:
    # get the photos, e.g. from a scikit-image wheel (any recent version):
    pip download --no-deps scikit-image==0.26.0 -d /tmp/skw
    unzip -o /tmp/skw/scikit_image-0.26.0-*.whl 'skimage/data/*' -d /tmp/skw
    python sample_data/make_sample_data.py /tmp/skw/skimage/data

Output (by default next to this script, see --out):
    train/<class>_NN.jpg|png   40 images, 10 per class, various sizes
    train.csv                  columns image,label (image = file name in train/)

Everything is deterministic: fixed seed per class, fixed size list, fixed
special cases (two PNGs, two single-channel grayscale JPEGs). Requires only
numpy and opencv (cv2).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

import cv2
import numpy as np

# class name -> (source file in skimage/data, sha256 of that file in
# scikit-image 0.26.0, point of interest (x, y) in source pixels that every
# crop must contain, so that each crop really shows the class subject).
SOURCES = {
    "astronaut": (
        "astronaut.png",
        "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
        (215, 150),  # face / upper body of Eileen Collins
    ),
    "cat": (
        "chelsea.png",
        "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
        (245, 140),  # between the eyes of Chelsea the cat
    ),
    "coffee": (
        "coffee.png",
        "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
        (285, 160),  # the espresso cup
    ),
    "rocket": (
        "rocket.jpg",
        "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
        (322, 250),  # the Falcon 9 on the launch pad
    ),
}

# Output sizes (width, height), 200..400 px per side; landscape, portrait
# (with exact H/W swaps) and square. Each class uses all of them once, in a
# class-specific shuffled order.
SIZES = [
    (320, 240), (240, 320),
    (300, 200), (200, 300),
    (256, 256),
    (400, 225), (225, 400),
    (360, 270),
    (224, 288),
    (212, 318),
]

SEED = 20240601
JPEG_QUALITY = 90
N_PER_CLASS = len(SIZES)

# Deliberate format variety, so the tool's loader gets exercised.
PNG_FILES = {("astronaut", 6), ("coffee", 7)}  # 3-channel PNGs
GRAY_FILES = {("cat", 4), ("rocket", 9)}        # single-channel grayscale JPEG

# A crop may be upscaled by at most this factor when resized to its output size.
MAX_UPSCALE = 1.35


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pick_crop(rng: np.random.Generator, src_w: int, src_h: int,
              out_w: int, out_h: int, poi: tuple[int, int]) -> tuple[int, int, int, int]:
    """Return (x0, y0, w, h): a crop with the aspect ratio of the output size
    that fits in the source and contains the point of interest."""
    aspect = out_w / out_h
    # largest crop of that aspect ratio that fits in the source
    max_w = min(src_w, int(src_h * aspect))
    max_h = int(max_w / aspect)
    # smallest allowed crop: not too much upscaling, not below 45 % of max
    min_w = max(int(out_w / MAX_UPSCALE), int(0.45 * max_w))
    min_w = min(min_w, max_w)
    w = int(rng.integers(min_w, max_w + 1))
    h = min(max_h, max(1, round(w / aspect)))
    px, py = poi
    # the point of interest must lie in the crop, at least 15 % from its edges
    x_lo = max(0, int(px - 0.85 * w))
    x_hi = min(src_w - w, int(px - 0.15 * w))
    y_lo = max(0, int(py - 0.85 * h))
    y_hi = min(src_h - h, int(py - 0.15 * h))
    if x_lo > x_hi:  # crop too wide for the constraint: just clamp
        x_lo = x_hi = min(max(0, px - w // 2), src_w - w)
    if y_lo > y_hi:
        y_lo = y_hi = min(max(0, py - h // 2), src_h - h)
    x0 = int(rng.integers(x_lo, x_hi + 1))
    y0 = int(rng.integers(y_lo, y_hi + 1))
    return x0, y0, w, h


def build(src_dir: Path, out_dir: Path, verify: bool = True) -> list[tuple[str, str]]:
    # check and load every source before writing anything
    images: dict[str, np.ndarray] = {}
    for label, (fname, digest, _) in SOURCES.items():
        path = src_dir / fname
        if not path.is_file():
            sys.exit(f"error: source image not found: {path}")
        if verify and sha256(path) != digest:
            sys.exit(f"error: {path} differs from the scikit-image 0.26.0 file "
                     f"(sha256 mismatch); use --no-verify to build anyway")
        src = cv2.imread(str(path), cv2.IMREAD_COLOR)  # BGR, 3 channels
        if src is None:
            sys.exit(f"error: cannot read {path}")
        images[label] = src

    train_dir = out_dir / "train"
    train_dir.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str]] = []
    for class_idx, (label, (fname, _, poi)) in enumerate(sorted(SOURCES.items())):
        src = images[label]
        src_h, src_w = src.shape[:2]
        rng = np.random.default_rng([SEED, class_idx])
        order = rng.permutation(len(SIZES))
        for i in range(1, N_PER_CLASS + 1):
            out_w, out_h = SIZES[order[i - 1]]
            x0, y0, w, h = pick_crop(rng, src_w, src_h, out_w, out_h, poi)
            crop = src[y0:y0 + h, x0:x0 + w]
            interp = cv2.INTER_AREA if w >= out_w else cv2.INTER_CUBIC
            img = cv2.resize(crop, (out_w, out_h), interpolation=interp)
            if (label, i) in GRAY_FILES:
                img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            if (label, i) in PNG_FILES:
                name = f"{label}_{i:02d}.png"
                params = [cv2.IMWRITE_PNG_COMPRESSION, 9]
            else:
                name = f"{label}_{i:02d}.jpg"
                params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
            if not cv2.imwrite(str(train_dir / name), img, params):
                sys.exit(f"error: cannot write {train_dir / name}")
            kind = "gray" if img.ndim == 2 else "bgr"
            print(f"{name:18s} {out_w}x{out_h} {kind:4s} <- {fname} "
                  f"crop x={x0} y={y0} w={w} h={h}")
            rows.append((name, label))
    # drop leftovers of earlier builds (e.g. a .jpg that is now a .png);
    # only files following this script's own naming scheme are touched
    produced = {name for name, _ in rows}
    for label in SOURCES:
        for stale in train_dir.glob(f"{label}_[0-9][0-9].*"):
            if stale.suffix in (".jpg", ".png") and stale.name not in produced:
                print(f"removing stale {stale}")
                stale.unlink()
    with open(out_dir / "train.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["image", "label"])
        writer.writerows(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src_dir", type=Path,
                    help="folder holding the scikit-image photos "
                         "(astronaut.png, chelsea.png, coffee.png, rocket.jpg), "
                         "e.g. <unzipped wheel>/skimage/data")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                    help="output folder (default: the folder of this script)")
    ap.add_argument("--no-verify", action="store_true",
                    help="do not check the sha256 of the source files")
    args = ap.parse_args(argv)
    rows = build(args.src_dir, args.out, verify=not args.no_verify)
    print(f"wrote {len(rows)} images to {args.out / 'train'} and {args.out / 'train.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

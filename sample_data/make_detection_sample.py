#!/usr/bin/env python3
"""Rebuild mixcli's small YOLO sample dataset (sample_data/yolo/) from the photos in sample_data/train/.

A "shapes" detection dataset: 12 of the sample photos (the first three of each class), each
with 2-3 solid shapes drawn on it - squares, discs and triangles in flat colours, never
overlapping, never cut by the image's edges. Every label box is the bounding box of its
shape's drawn pixels (computed from the mask the shape was drawn with), so the labels are
exact to the pixel before JPEG encoding; JPEG (quality 90, no chroma subsampling, so colour
edges stay where they were drawn) only softens the edges.

Usage:
    python sample_data/make_detection_sample.py            # writes sample_data/yolo/

Output (by default next to this script, see --out):
    yolo/images/<photo>.jpg     12 images, the photos' own sizes (200..400 px a side)
    yolo/labels/<photo>.txt     class cx cy w h per shape, normalised to 0-1 (Ultralytics)
    yolo/data.yaml              names: 0 square, 1 disc, 2 triangle

Deterministic: a fixed seed per photo. Requires only numpy and opencv (cv2, 4.5.5 or later).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
PHOTOS = [f"{c}_{i:02d}.jpg" for c in ("astronaut", "cat", "coffee", "rocket") for i in (1, 2, 3)]
NAMES = ["square", "disc", "triangle"]
# BGR, flat: yellow, violet, white, pink; not green, red or blue, the colours of the boxes mixcli preview
# draws for classes 0-2, nor orange (the astronaut's suit)
COLOURS = [(0, 230, 255), (230, 100, 160), (245, 245, 245), (203, 150, 255)]
SEED = 20261201
JPEG_QUALITY = 90
GAP = 6  # px kept free between two shapes' boxes, and from the image's edges


def shape_mask(kind: int, h: int, w: int, x: int, y: int, side: int, rng: np.random.Generator) -> np.ndarray:
    """A filled shape of class `kind` in a side x side cell at (x, y), as an HxW bool mask."""
    m = np.zeros((h, w), np.uint8)
    if kind == 0:  # square (a rectangle of aspect 0.7..1.4)
        aspect = float(rng.uniform(0.7, 1.4))
        sw, sh = (side, round(side / aspect)) if aspect >= 1 else (round(side * aspect), side)
        m[y:y + sh, x:x + sw] = 1
    elif kind == 1:  # disc
        r = side // 2
        cv2.circle(m, (x + r, y + r), r, 1, thickness=-1, lineType=cv2.LINE_8)
    else:  # triangle, apex up
        pts = np.array([[x + side // 2, y], [x, y + side - 1], [x + side - 1, y + side - 1]], np.int32)
        cv2.fillPoly(m, [pts], 1, lineType=cv2.LINE_8)
    return m.astype(bool)


def bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """The half-open pixel box (x1, y1, x2, y2) of a mask's set pixels."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def build(src: Path, out: Path) -> int:
    images, labels = out / "images", out / "labels"
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    count = 0
    for n, name in enumerate(PHOTOS):
        img = cv2.imread(str(src / name), cv2.IMREAD_COLOR)
        if img is None:
            sys.exit(f"error: cannot read {src / name}")
        h, w = img.shape[:2]
        rng = np.random.default_rng([SEED, n])
        placed: list[tuple[int, int, int, int]] = []
        lines = []
        for t in range(int(rng.integers(2, 4))):
            kind = int(rng.integers(len(NAMES)))
            for _ in range(200):  # a free spot: no overlap with the others' boxes (+ GAP)
                side = int(rng.integers(int(0.18 * min(h, w)), int(0.34 * min(h, w)) + 1))
                x = int(rng.integers(GAP, w - side - GAP))
                y = int(rng.integers(GAP, h - side - GAP))
                m = shape_mask(kind, h, w, x, y, side, rng)
                x1, y1, x2, y2 = bbox(m)
                if all(x2 + GAP <= a1 or a2 + GAP <= x1 or y2 + GAP <= b1 or b2 + GAP <= y1 for a1, b1, a2, b2 in placed):
                    break
            else:
                sys.exit(f"error: no room for a shape in {name}")
            placed.append((x1, y1, x2, y2))
            img[m] = COLOURS[int(rng.integers(len(COLOURS)))]
            cx, cy, bw, bh = (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h
            lines.append(f"{kind} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}\n")
            count += 1
        if not cv2.imwrite(str(images / name), img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]):
            sys.exit(f"error: cannot write {images / name}")
        (labels / name).with_suffix(".txt").write_text("".join(lines))
        print(f"{name:18s} {w}x{h}  " + ", ".join(f"{NAMES[int(s.split()[0])]} {b}" for s, b in zip(lines, placed)))
    names = "".join(f"  {k}: {v}\n" for k, v in enumerate(NAMES))
    (out / "data.yaml").write_text(
        "# mixcli's sample detection dataset (sample_data/make_detection_sample.py); paths relative to this file\n"
        f"train: images\nval: images\nnames:\n{names}")
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=HERE / "train", help="the sample photos (default: sample_data/train)")
    ap.add_argument("--out", type=Path, default=HERE / "yolo", help="output folder (default: sample_data/yolo)")
    args = ap.parse_args(argv)
    n = build(args.src, args.out)
    print(f"wrote {len(PHOTOS)} images with {n} objects to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

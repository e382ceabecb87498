#!/usr/bin/env python3
"""Build the benchmark corpora: real-photo JPEGs derived from sample_data/train/.

Every image is a crop of one of the 40 public-domain / CC0 sample images (themselves
crops of four scikit-image photos, see sample_data/SOURCES.md), with a seeded random
flip, crop, scale and colour jitter, plus a light seeded film/sensor grain so that the
JPEG sizes (and so the entropy-decoding cost) look like real photos rather than
smooth upscales. The content is always the photo; the grain is a few grey levels.

Two kinds (JPEG quality 90):
  a   500x375   "ImageNet-like"   (~1.5x upscaled crops)
  b   2016x1512 "phone photos"    (upscaled crops)

Each corpus is a Kaggle-style folder:
  bench/corpus/<kind>_n<N>/train.csv    columns image,label (label = source class)
  bench/corpus/<kind>_n<N>/train/*.jpg  hard links into the shared pool
Images are generated once into bench/corpus/pool_<kind>_<VERSION>/ and reused; image i
depends only on (kind, i), so a corpus of N photos is the first N of the pool, and a
larger N extends the pool. numpy + cv2 only.

    python bench/make_corpus.py a 1000 3000
    python bench/make_corpus.py b 100 400
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

VERSION = "v1"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SAMPLES = REPO / "sample_data"
CORPUS = HERE / "corpus"

# kind -> (width, height, seed, grain sigma in grey levels, JPEG quality)
KINDS = {
    "a": (500, 375, 1001, 6.0, 90),
    "b": (2016, 1512, 2002, 6.0, 90),
}
_GRAIN_BANK = 3  # grain fields per kind, each used through a random window
_MARGIN = 64


def _load_sources() -> list[tuple[str, np.ndarray]]:
    """(label, BGR image) for every row of sample_data/train.csv, in CSV order."""
    out = []
    with open(SAMPLES / "train.csv", newline="") as f:
        for row in csv.DictReader(f):
            img = cv2.imread(str(SAMPLES / "train" / row["image"]), cv2.IMREAD_COLOR)
            if img is None:
                raise SystemExit(f"cannot read sample image {row['image']}")
            out.append((row["label"].strip(), img))
    if not out:
        raise SystemExit("no sample images found")
    return out


class _Maker:
    def __init__(self, kind: str):
        self.kind = kind
        self.w, self.h, self.seed, self.sigma, self.quality = KINDS[kind]
        self.sources = _load_sources()
        rng = np.random.default_rng([self.seed, 0xBEEF])
        # Grey grain as two saturating uint8 fields (+ and -), a margin for random windows.
        self.grain = []
        for _ in range(_GRAIN_BANK):
            g = np.rint(rng.normal(0.0, self.sigma, (self.h + _MARGIN, self.w + _MARGIN)))
            g = np.clip(g, -255, 255)
            pos = np.repeat(np.maximum(g, 0).astype(np.uint8)[..., None], 3, axis=2)
            neg = np.repeat(np.maximum(-g, 0).astype(np.uint8)[..., None], 3, axis=2)
            self.grain.append((pos, neg))

    def name(self, i: int) -> tuple[str, str]:
        label, _ = self.sources[self._source_index(i)]
        return f"{label}_{i:06d}.jpg", label

    def _source_index(self, i: int) -> int:
        return int(np.random.default_rng([self.seed, i]).integers(len(self.sources)))

    def make(self, i: int) -> bytes:
        """The JPEG bytes of pool image i (deterministic in kind and i)."""
        rng = np.random.default_rng([self.seed, i])
        src = self.sources[int(rng.integers(len(self.sources)))][1]
        sh, sw = src.shape[:2]
        # A crop with the output's 4:3 aspect, 55-100% of the largest one that fits.
        aspect = self.w / self.h
        cw_max = min(sw, int(sh * aspect))
        cw = max(16, int(cw_max * rng.uniform(0.55, 1.0)))
        ch = min(sh, max(12, int(round(cw / aspect))))
        x = int(rng.integers(0, sw - cw + 1))
        y = int(rng.integers(0, sh - ch + 1))
        img = src[y : y + ch, x : x + cw]
        if rng.random() < 0.5:
            img = img[:, ::-1]
        img = np.ascontiguousarray(img)
        # Colour jitter at source resolution: hue shift, saturation, brightness, contrast, gamma.
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-6, 6)) % 180
        hsv[..., 1] *= rng.uniform(0.75, 1.25)
        hsv[..., 2] *= rng.uniform(0.8, 1.2)
        img = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
        img = (img - 128.0) * rng.uniform(0.85, 1.15) + 128.0
        img = 255.0 * (np.clip(img, 0, 255) / 255.0) ** rng.uniform(0.85, 1.15)
        img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        # Scale to the output size; upscaled crops are soft, so a mild unsharp mask.
        interp = (cv2.INTER_CUBIC, cv2.INTER_LINEAR, cv2.INTER_LANCZOS4)[int(rng.integers(3))]
        img = cv2.resize(img, (self.w, self.h), interpolation=interp)
        blur = cv2.GaussianBlur(img, (0, 0), sigmaX=1.2 * self.w / 500)
        img = cv2.addWeighted(img, 1.6, blur, -0.6, 0)
        # Grain: a window of a fixed seeded field at a seeded offset (cheap, deterministic).
        pos, neg = self.grain[int(rng.integers(_GRAIN_BANK))]
        oy, ox = int(rng.integers(_MARGIN + 1)), int(rng.integers(_MARGIN + 1))
        win = (slice(oy, oy + self.h), slice(ox, ox + self.w))
        img = cv2.subtract(cv2.add(img, pos[win]), neg[win])
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return buf.tobytes()


def pool_dir(kind: str) -> Path:
    return CORPUS / f"pool_{kind}_{VERSION}"


def ensure_pool(kind: str, n: int, log=print) -> list[tuple[str, str]]:
    """Make sure pool images 0..n-1 exist; return their (file name, label)."""
    maker = _Maker(kind)
    pool = pool_dir(kind)
    pool.mkdir(parents=True, exist_ok=True)
    names = [maker.name(i) for i in range(n)]
    todo = [i for i in range(n) if not (pool / names[i][0]).is_file()]
    if todo:
        log(f"corpus: generating {len(todo)} {maker.w}x{maker.h} photos into {pool.relative_to(REPO)} ...")

        def one(i: int) -> None:
            path = pool / names[i][0]
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(maker.make(i))
            os.replace(tmp, path)

        with ThreadPoolExecutor(os.cpu_count() or 1) as ex:
            list(ex.map(one, todo))
    return names


def ensure_corpus(kind: str, n: int, log=print) -> Path:
    """The Kaggle-style folder of the first n pool images of `kind` (built if missing)."""
    w, h = KINDS[kind][:2]
    data = CORPUS / f"{kind}{w}x{h}_n{n}_{VERSION}"
    done = data / ".complete"
    if done.is_file():
        return data
    names = ensure_pool(kind, n, log)
    if data.exists():
        shutil.rmtree(data)
    (data / "train").mkdir(parents=True)
    pool = pool_dir(kind)
    for fname, _ in names:
        try:
            os.link(pool / fname, data / "train" / fname)
        except OSError:
            shutil.copyfile(pool / fname, data / "train" / fname)
    with open(data / "train.csv", "w", newline="") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["image", "label"])
        wr.writerows(names)
    done.write_text("ok\n")
    return data


def describe(data: Path) -> str:
    files = sorted((data / "train").glob("*.jpg"))
    sizes = [f.stat().st_size for f in files]
    return f"{data.name}: {len(files)} JPEGs, mean {np.mean(sizes) / 1024:.0f} KiB"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=sorted(KINDS))
    ap.add_argument("n", type=int, nargs="+", help="corpus sizes (photos)")
    args = ap.parse_args(argv)
    for n in args.n:
        data = ensure_corpus(args.kind, n, log=lambda m: print(m, file=sys.stderr, flush=True))
        print(f"{data}\t{describe(data)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Detection fixtures whose pixels tell where every object went: images of solid rectangles on
solid backgrounds, every colour unique in the dataset, written as a YOLO or a COCO dataset (with
label maps if asked), and their ground truth in memory.

    python tests/detection_data.py yolo OUTDIR [--seed N] [--label-maps]   # or coco

Each image (non-square, sizes 72..112 px so a partner resized onto another image is scaled by
0.64..1.56) has a background colour and 0-4 objects drawn in order, later ones over earlier
ones: axis-aligned rectangles with integer edges, sides >= 6 px, some cut by the image's edges,
some overlapping. An object's box is the drawn rectangle (occluded parts included), as an
annotator would draw it. Colours: each colour of an image is a different corner of the RGB cube
that is not gray (red, green, blue, yellow, magenta, cyan: 25 or 205 in each channel), plus the
image's own offset (0, 12, 24 or 36 in each channel, no two images alike). So within one image
no colour lies within 60 levels of a blend of its other colours (a resized edge matches no
third colour), and no colour is near a gray fill (cutout's holes, padding).

Classes: YOLO 0..2 (data.yaml names as a dict); COCO category ids 3, 7, 11 (non-contiguous), image
ids 101, 104, ... Label maps (single-channel uint8 PNG, DIR/<key with .png>): 0 on the
background, MAP_VALUE of the object's class on it (YOLO: class + 1; COCO: the category id),
drawn in the same order, so occlusion is the image's.

Keys (an image's path relative to DATA/images): img00.png .. img11.png, two of them in a sub/
folder; image 5 has no objects (YOLO: no label file; COCO: no annotation).
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

CORNERS = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1)]  # not gray
LOW, SPAN, STEP = 25, 180, 12  # a channel is LOW + SPAN*corner + an offset in {0, STEP, 2*STEP, 3*STEP}
SIZES = [(96, 72), (80, 112), (100, 100), (72, 96), (112, 80), (88, 104), (104, 76), (76, 88), (92, 84), (84, 108), (108, 92), (96, 96)]  # (W, H)
NAMES = {0: "cat", 1: "dog", 2: "bird"}
COCO_IDS = {0: 3, 1: 7, 2: 11}  # class index -> COCO category id
EMPTY = 5  # the image with no objects
NESTED = {3, 8}  # images under images/sub/


@dataclass(frozen=True)
class Obj:
    colour: tuple  # BGR, as written and as cv2.imread reads it
    cls: int  # YOLO class 0..2, or COCO category id
    box: tuple  # (x1, y1, x2, y2) integer px, half-open: the drawn rectangle
    map_value: int  # its value in the label map


@dataclass(frozen=True)
class ImageTruth:
    key: str  # path relative to DATA/images
    width: int
    height: int
    background: tuple  # BGR
    objects: tuple  # Obj, in drawing order (later ones occlude earlier ones)

    def occluders(self, k: int) -> list[int]:
        """The objects drawn after object k whose rectangles overlap its rectangle."""
        ax1, ay1, ax2, ay2 = self.objects[k].box
        return [j for j in range(k + 1, len(self.objects))
                if min(ax2, self.objects[j].box[2]) > max(ax1, self.objects[j].box[0])
                and min(ay2, self.objects[j].box[3]) > max(ay1, self.objects[j].box[1])]

    def colours(self) -> list[tuple]:
        return [self.background] + [o.colour for o in self.objects]

    def pixels(self) -> np.ndarray:
        """The image, H x W x 3 BGR, drawn from the truth."""
        img = np.empty((self.height, self.width, 3), np.uint8)
        img[...] = self.background
        for o in self.objects:
            x1, y1, x2, y2 = o.box
            img[y1:y2, x1:x2] = o.colour
        return img

    def label_map(self) -> np.ndarray:
        """The label map, H x W uint8: 0 on the background, each object's map_value, occlusion as drawn."""
        m = np.zeros((self.height, self.width), np.uint8)
        for o in self.objects:
            x1, y1, x2, y2 = o.box
            m[y1:y2, x1:x2] = o.map_value
        return m


@dataclass
class Dataset:
    root: Path
    layout: str  # yolo or coco
    images: dict = field(default_factory=dict)  # key -> ImageTruth, in image order
    label_maps: Path | None = None
    names: dict = field(default_factory=lambda: dict(NAMES))

    def colour_owner(self) -> dict:
        """colour -> (key, object index or None for the background)."""
        owner = {}
        for key, t in self.images.items():
            owner[t.background] = (key, None)
            for k, o in enumerate(t.objects):
                owner[o.colour] = (key, k)
        return owner


def _objects(rng, w: int, h: int, n: int, k: int) -> list[tuple]:
    """n rectangles (x1, y1, x2, y2) in a w x h image: sides >= 6 px after clipping, some cut by
    the image's edges, some overlapping; each keeps >= 35% of its area visible once drawn."""
    while True:
        boxes = []
        for i in range(n):
            bw, bh = int(rng.integers(10, w // 2 + 1)), int(rng.integers(10, h // 2 + 1))
            if i == 1 and k % 2 == 0:  # overlap the first object's corner
                x1, y1 = boxes[0][2] - int(rng.integers(3, 8)), boxes[0][3] - int(rng.integers(3, 8))
            elif i == 0 and k % 3 == 0:  # cut by an edge
                x1, y1 = (-bw // 3, int(rng.integers(0, h - bh))) if k % 2 else (int(rng.integers(0, w - bw)), h - 2 * bh // 3)
            else:
                x1, y1 = int(rng.integers(-bw // 4, w - bw + bw // 4 + 1)), int(rng.integers(-bh // 4, h - bh + bh // 4 + 1))
            box = (max(x1, 0), max(y1, 0), min(x1 + bw, w), min(y1 + bh, h))
            boxes.append(box)
        if all(b[2] - b[0] >= 6 and b[3] - b[1] >= 6 for b in boxes) and len(set(boxes)) == n:
            canvas = np.full((h, w), -1)
            for i, (x1, y1, x2, y2) in enumerate(boxes):
                canvas[y1:y2, x1:x2] = i
            if all((canvas == i).sum() >= 0.35 * (b[2] - b[0]) * (b[3] - b[1]) for i, b in enumerate(boxes)):
                return boxes


def draw_truth(layout: str = "yolo", seed: int = 0, n: int = 12) -> list[ImageTruth]:
    """The truth of n images, deterministic from the seed."""
    rng = np.random.default_rng(seed)
    grid = [(a, b, c) for a in range(4) for b in range(4) for c in range(4)]
    offsets = [grid[i] for i in rng.permutation(len(grid))[:n]]
    truths = []
    for k in range(n):
        w, h = SIZES[k % len(SIZES)]
        corners = [CORNERS[i] for i in rng.permutation(len(CORNERS))]
        colour = [tuple(int(LOW + SPAN * c + STEP * d) for c, d in zip(corner, offsets[k])) for corner in corners]
        m = 0 if k == EMPTY else int(rng.integers(1, 5))
        objs = []
        for i, box in enumerate(_objects(rng, w, h, m, k) if m else []):
            cls = int(rng.integers(0, 3))
            label = COCO_IDS[cls] if layout == "coco" else cls
            objs.append(Obj(colour[1 + i], label, box, label if layout == "coco" else cls + 1))
        key = f"sub/img{k:02d}.png" if k in NESTED else f"img{k:02d}.png"
        truths.append(ImageTruth(key, w, h, colour[0], tuple(objs)))
    return truths


def make_dataset(root, layout: str = "yolo", seed: int = 0, n: int = 12, label_maps=None) -> Dataset:
    """Write the dataset under root (a YOLO or a COCO layout), with label maps under label_maps
    if given; its truth."""
    root = Path(root)
    ds = Dataset(root, layout, label_maps=Path(label_maps) if label_maps is not None else None)
    truths = draw_truth(layout, seed, n)
    coco = {"images": [], "annotations": [], "categories": [{"id": COCO_IDS[c], "name": NAMES[c]} for c in NAMES]}
    for k, t in enumerate(truths):
        ds.images[t.key] = t
        path = root / "images" / t.key
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), t.pixels())
        if ds.label_maps is not None:
            mpath = ds.label_maps / Path(t.key).with_suffix(".png")
            mpath.parent.mkdir(parents=True, exist_ok=True)
            assert cv2.imwrite(str(mpath), t.label_map())
        if layout == "yolo":
            if t.objects:
                lpath = root / "labels" / Path(t.key).with_suffix(".txt")
                lpath.parent.mkdir(parents=True, exist_ok=True)
                lines = []
                for o in t.objects:
                    x1, y1, x2, y2 = o.box
                    lines.append(f"{o.cls} {(x1 + x2) / 2 / t.width!r} {(y1 + y2) / 2 / t.height!r} {(x2 - x1) / t.width!r} {(y2 - y1) / t.height!r}\n")
                lpath.write_text("".join(lines))
        else:
            image_id = 101 + 3 * k
            coco["images"].append({"id": image_id, "file_name": t.key, "width": t.width, "height": t.height})
            for o in t.objects:
                x1, y1, x2, y2 = o.box
                coco["annotations"].append({"id": len(coco["annotations"]) + 1, "image_id": image_id, "category_id": o.cls,
                                            "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    if layout == "yolo":
        (root / "data.yaml").write_text("path: .\ntrain: images\nval: images\nnames:\n" + "".join(f"  {c}: {v}\n" for c, v in NAMES.items()))
    else:
        (root / "annotations.json").write_text(json.dumps(coco, indent=1))
    return ds


# ---------------------------------------------------------------- the fixture's own check


def blend_distance(colours: list[tuple], c: tuple, steps: int = 20) -> float:
    """The smallest L-inf distance from colour c to a convex blend of the colours (sampled)."""
    others = np.array(colours, float)
    k = len(others)
    if k == 0:
        return np.inf
    # barycentric weights on a grid: every blend of up to 4 of the colours
    best = np.inf
    rng_w = np.arange(steps + 1) / steps
    for idx in ([i] for i in range(k)):
        best = min(best, float(np.abs(others[idx[0]] - c).max()))
    for i in range(k):
        for j in range(i + 1, k):
            seg = rng_w[:, None] * others[i] + (1 - rng_w[:, None]) * others[j]
            best = min(best, float(np.abs(seg - c).max(axis=1).min()))
            for l in range(j + 1, k):
                a, b = np.meshgrid(rng_w, rng_w)
                ok = a + b <= 1
                tri = a[ok][:, None] * others[i] + b[ok][:, None] * others[j] + (1 - a[ok] - b[ok])[:, None] * others[l]
                best = min(best, float(np.abs(tri - c).max(axis=1).min()))
    return best


def check_dataset(ds: Dataset) -> None:
    """Assert that the files agree with the truth and the truth with its pixels: each object's
    colour fills exactly its rectangle less the later objects over it, the background the rest;
    colours unique and far from blends of the image's other colours and from grays; labels,
    annotations and label maps read back as the truth."""
    seen = set()
    for key, t in ds.images.items():
        img = cv2.imread(str(ds.root / "images" / key), cv2.IMREAD_COLOR)
        assert img.shape == (t.height, t.width, 3), key
        covered = np.zeros((t.height, t.width), bool)
        for k in reversed(range(len(t.objects))):
            o = t.objects[k]
            x1, y1, x2, y2 = o.box
            assert 0 <= x1 < x2 <= t.width and 0 <= y1 < y2 <= t.height and x2 - x1 >= 6 and y2 - y1 >= 6, (key, o)
            rect = np.zeros_like(covered)
            rect[y1:y2, x1:x2] = True
            own = (img == o.colour).all(axis=2)
            np.testing.assert_array_equal(own, rect & ~covered, err_msg=f"{key} object {k}")
            # the footprint (its colour and its occluders') is exactly the rectangle
            foot = own.copy()
            for j in t.occluders(k):
                foot |= (img == t.objects[j].colour).all(axis=2)
            np.testing.assert_array_equal(foot & rect, rect, err_msg=f"{key} object {k} footprint")
            covered |= rect
        np.testing.assert_array_equal((img == t.background).all(axis=2), ~covered, err_msg=key)
        for c in t.colours():
            assert c not in seen, c
            seen.add(c)
            assert max(c) - min(c) >= 100, c  # far from any gray
            assert blend_distance([d for d in t.colours() if d != c], c) >= 60, (key, c)
        if ds.label_maps is not None:
            m = cv2.imread(str(ds.label_maps / Path(key).with_suffix(".png")), cv2.IMREAD_UNCHANGED)
            assert m.dtype == np.uint8 and m.shape == (t.height, t.width), key
            np.testing.assert_array_equal(m, t.label_map())
            for o in t.objects:
                assert (m[(img == o.colour).all(axis=2)] == o.map_value).all()
    if ds.layout == "yolo":
        for key, t in ds.images.items():
            path = ds.root / "labels" / Path(key).with_suffix(".txt")
            assert path.exists() == bool(t.objects), key
            rows = [list(map(float, line.split())) for line in path.read_text().splitlines()] if path.exists() else []
            assert len(rows) == len(t.objects)
            for (c, cx, cy, w, h), o in zip(rows, t.objects):
                assert int(c) == o.cls
                got = ((cx - w / 2) * t.width, (cy - h / 2) * t.height, (cx + w / 2) * t.width, (cy + h / 2) * t.height)
                np.testing.assert_allclose(got, o.box, atol=1e-9)
    else:
        coco = json.loads((ds.root / "annotations.json").read_text())
        by_id = {im["id"]: im for im in coco["images"]}
        assert [im["file_name"] for im in coco["images"]] == list(ds.images)
        anns = {}
        for a in coco["annotations"]:
            anns.setdefault(by_id[a["image_id"]]["file_name"], []).append(a)
        for key, t in ds.images.items():
            got = anns.get(key, [])
            assert [(a["category_id"], tuple(a["bbox"])) for a in got] == [(o.cls, (o.box[0], o.box[1], o.box[2] - o.box[0], o.box[3] - o.box[1])) for o in t.objects]
        assert sorted(c["id"] for c in coco["categories"]) == [3, 7, 11]
    # the dataset has what the tests need: overlaps, objects cut by edges, every class, an empty image
    objs = [(t, k) for t in ds.images.values() for k in range(len(t.objects))]
    assert any(t.occluders(k) for t, k in objs)
    assert any(t.objects[k].box[0] == 0 or t.objects[k].box[1] == 0 or t.objects[k].box[2] == t.width or t.objects[k].box[3] == t.height for t, k in objs)
    assert len({t.objects[k].cls for t, k in objs}) == 3
    assert any(not t.objects for t in ds.images.values())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Write a detection fixture (YOLO or COCO) whose colours identify every object.")
    p.add_argument("layout", choices=("yolo", "coco"))
    p.add_argument("outdir", type=Path)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-n", type=int, default=12)
    p.add_argument("--label-maps", action="store_true", help="also write label maps under OUTDIR/label_maps")
    a = p.parse_args(argv)
    ds = make_dataset(a.outdir, a.layout, a.seed, a.n, a.outdir / "label_maps" if a.label_maps else None)
    check_dataset(ds)
    print(f"{a.layout} dataset of {len(ds.images)} images, {sum(len(t.objects) for t in ds.images.values())} objects in {a.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

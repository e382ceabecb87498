"""The COCO layout, read and written.

    DATA/annotations.json (or --annotations FILE): images (id, file_name, width, height),
        annotations (image_id, category_id, bbox [x, y, w, h] in pixels, iscrowd), categories
    DATA/images/<file_name>, else DATA/<file_name>: the images

Boxes are kept normalised to the image's width and height as the file gives them; segmentation
is not read (boxes only). The output's annotations.json has the same categories, file names
relative to OUT, and per annotation the source's label weight (MixUp's blended objects; 1.0
otherwise) and its visibility (the share of its area kept).
"""

import hashlib
import json
import math
import numbers

from ..errors import MixcliError, listing
from .objects import Objects

FILE, IMAGES = "annotations.json", "images"


def read(data, annotations=None) -> dict:
    """DATA's images (keys of the returned root), objects, the digest of the annotations, and
    whether some carried a segmentation (not read)."""
    store, key = annotations if annotations is not None else (data, FILE)
    where = store.where(key)
    if not store.is_file(key):
        raise MixcliError(f"no {where} (--layout coco reads DATA/annotations.json, or --annotations FILE)")
    raw = store.read(key)
    try:
        doc = json.loads(raw)
        images, anns, cats = doc["images"], doc.get("annotations", []), doc["categories"]
        assert isinstance(images, list) and isinstance(anns, list) and isinstance(cats, list)
    except (ValueError, KeyError, TypeError, AssertionError) as e:
        raise MixcliError(f"cannot read {where}: not COCO JSON with lists images, annotations and categories ({type(e).__name__}: {e})") from None
    by_id, files = {}, []
    for k, im in enumerate(images):
        ok = isinstance(im, dict) and isinstance(im.get("file_name"), str) and _positive(im.get("width")) and _positive(im.get("height"))
        if not ok or im.get("id") in by_id:
            raise MixcliError(f"{where}: images[{k}] needs a unique id, a file_name and positive width and height")
        by_id[im["id"]] = k
        files.append(im["file_name"])
    category = {}
    for k, c in enumerate(cats):
        if not isinstance(c, dict) or "id" not in c or c["id"] in category:
            raise MixcliError(f"{where}: categories[{k}] needs a unique id")
        category[c["id"]] = k
    rows = [[] for _ in images]
    segmented = False
    for k, a in enumerate(anns):
        name = f"{where}: annotation {a.get('id', f'[{k}]') if isinstance(a, dict) else f'[{k}]'}"
        if not isinstance(a, dict) or a.get("image_id") not in by_id:
            raise MixcliError(f"{name} names no image of the file")
        if a.get("category_id") not in category:
            raise MixcliError(f"{name}: category_id {a.get('category_id')!r} is not in categories")
        bbox = a.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(_number(v) for v in bbox) and bbox[2] >= 0 and bbox[3] >= 0):
            raise MixcliError(f"{name}: bbox must be [x, y, w, h], finite numbers with w, h >= 0")
        im = images[by_id[a["image_id"]]]
        w, h = im["width"], im["height"]
        x, y, bw, bh = bbox
        box = (max(x, 0) / w, max(y, 0) / h, min(x + bw, w) / w, min(y + bh, h) / h)
        rows[by_id[a["image_id"]]].append((category[a["category_id"]], *box, 1 if a.get("iscrowd") else 0))
        segmented = segmented or bool(a.get("segmentation"))
    root, keys = _locate(data, files, where)
    return {"root": root, "images": keys, "objects": Objects.from_rows(rows, cats, "coco"), "digest": hashlib.sha256(raw).hexdigest(), "segmented": segmented}


def _locate(data, files: list[str], where: str):
    """The images' root and keys: DATA/images when every file is there (a file_name beginning
    images/ that DATA holds counts as under it), else DATA."""
    images = data.sub(IMAGES)
    under = [f[len(IMAGES) + 1 :] if f.startswith(f"{IMAGES}/") else f for f in files]
    if data.is_folder(IMAGES):
        direct = images.has(files)
        if all(direct):
            return images, files
        if all(ok or f.startswith(f"{IMAGES}/") for ok, f in zip(direct, files)) and all(images.has(under)):
            return images, under
    found = data.has(files)
    missing = [f for f, ok in zip(files, found) if not ok]
    if missing:
        raise MixcliError(f"{len(missing)} image(s) listed in {where} not found under {data.where(IMAGES)} or {data.where()}: {listing(missing)}")
    return data, files


def _number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def _positive(v) -> bool:
    return _number(v) and v > 0


class Writer:
    """annotations.json written from the rows in output order: add each row's image and objects, then text()."""

    def __init__(self, categories: list[dict]):
        self.categories, self.images, self.annotations = categories, [], []
        self.ids = [c["id"] for c in categories]

    def add(self, file_name: str, width: int, height: int, objects: list[list]) -> None:
        image_id = len(self.images) + 1
        self.images.append({"id": image_id, "file_name": file_name, "width": width, "height": height})
        for c, x1, y1, x2, y2, weight, visibility, crowd in objects:
            w, h = round(x2 - x1, 6), round(y2 - y1, 6)  # the edges have 6 decimals: so have the sides
            self.annotations.append({
                "id": len(self.annotations) + 1, "image_id": image_id, "category_id": self.ids[c],
                "bbox": [x1, y1, w, h], "area": w * h, "iscrowd": int(crowd), "weight": weight, "visibility": visibility,
            })

    def text(self) -> bytes:
        return json.dumps({"images": self.images, "annotations": self.annotations, "categories": self.categories}).encode()

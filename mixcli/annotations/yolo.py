"""The YOLO (Ultralytics) layout, read and written.

    DATA/images/<any depth>/<name>.<ext>   the images
    DATA/labels/<same path>.txt            a row an object: class cx cy w h, normalised to 0-1
    DATA/data.yaml                         names: the classes (a list, or a dict id -> name)

A label file is found by Ultralytics' rule: the last images/ of the image's path becomes
labels/ and the suffix .txt; no file means no objects. A row of more than 5 fields is a polygon
(class x1 y1 ... xn yn; if any row of a file has more than 6 fields, Ultralytics reads every row
so): its bounding box is taken.
"""

import hashlib
import json
import math
from pathlib import PurePosixPath

from ..errors import MixcliError
from .objects import Objects

IMAGES, LABELS, YAML = "images", "labels", "data.yaml"


def label_key(image: str) -> str:
    """The label file of DATA/images/<image>, relative to DATA (Ultralytics' rule)."""
    path = f"{IMAGES}/{image}"
    at = path.rfind(f"{IMAGES}/")
    while at > 0 and path[at - 1] != "/":
        at = path.rfind(f"{IMAGES}/", 0, at)
    return str(PurePosixPath(path[:at] + LABELS + "/" + path[at + len(IMAGES) + 1 :]).with_suffix(".txt"))


def read(data, extensions: tuple[str, ...]) -> dict:
    """DATA's images (keys under DATA/images), objects, the rows whose label file is bad (row ->
    why), the digest of everything read, and how many polygons were read as boxes."""
    if not data.is_folder(IMAGES):
        raise MixcliError(f"no folder {data.where(IMAGES)} (--layout yolo reads DATA/images and DATA/labels)")
    root = data.sub(IMAGES)
    images = [k for k in root.files(hidden=False) if k.lower().endswith(extensions)]
    if not images:
        raise MixcliError(f"{root.where()} holds no image ({', '.join(extensions)})")
    digest = hashlib.sha256("\n".join(images).encode())
    categories = _names(data, digest)
    known = {c["id"] for c in categories} if categories else None
    keys = [label_key(i) for i in images]
    present = data.has(keys)
    read_label = data.reader([k for k, ok in zip(keys, present) if ok])
    rows, invalid, polygons, k_read = [], {}, 0, 0
    found_ids: set[int] = set()
    for i, (key, ok) in enumerate(zip(keys, present)):
        if not ok:
            rows.append([])
            continue
        raw = read_label(k_read)
        k_read += 1
        digest.update(key.encode() + b"\0" + raw + b"\0")
        try:
            objects, n_poly = _parse(raw, data.where(key), known)
        except ValueError as e:
            invalid[i] = str(e)
            rows.append([])
            continue
        polygons += n_poly
        found_ids.update(o[0] for o in objects)
        rows.append(objects)
    if categories is None:  # no data.yaml: the ids found are the classes
        categories = [{"id": c, "name": str(c)} for c in sorted(found_ids)]
    index = {c["id"]: k for k, c in enumerate(categories)}
    rows = [[(index[c], *rest) for c, *rest in r] for r in rows]
    return {"root": root, "images": images, "objects": Objects.from_rows(rows, categories, "yolo"), "invalid": invalid,
            "digest": digest.hexdigest(), "polygons": polygons}


def _names(data, digest) -> list[dict] | None:
    """The classes of DATA/data.yaml's names (None without the file)."""
    if not data.is_file(YAML):
        return None
    import yaml

    raw = data.read(YAML)
    digest.update(raw)
    try:
        names = (yaml.safe_load(raw) or {}).get("names")
    except (yaml.YAMLError, AttributeError) as e:
        raise MixcliError(f"cannot read {data.where(YAML)}: {str(e).splitlines()[0]}") from None
    if isinstance(names, list):
        names = dict(enumerate(names))
    if not isinstance(names, dict) or not all(isinstance(k, int) and k >= 0 for k in names):
        raise MixcliError(f"{data.where(YAML)}: names must be a list, or a dict of class ids (integers >= 0) to names")
    return [{"id": k, "name": str(names[k])} for k in sorted(names)]


def _parse(raw: bytes, where: str, known: set | None) -> tuple[list[tuple], int]:
    """A label file's objects (class id, x1, y1, x2, y2, 0) and its count of polygons; ValueError
    naming the file and line of the first bad row."""
    try:
        lines = raw.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{where}: not UTF-8 text") from None
    rows = [(n, line.split()) for n, line in enumerate(lines, 1) if line.strip()]
    polygon = any(len(f) > 6 for _, f in rows)
    objects = []
    for n, fields in rows:
        bad = _bad(fields, polygon, known)
        if bad:
            raise ValueError(f"{where} line {n}: {bad}")
        c, v = int(fields[0]), [float(x) for x in fields[1:]]
        if polygon:
            xs, ys = v[0::2], v[1::2]
            x1, y1, x2, y2 = min(xs), min(ys), max(xs), max(ys)
        else:
            cx, cy, w, h = v
            x1, y1, x2, y2 = max(cx - w / 2, 0.0), max(cy - h / 2, 0.0), min(cx + w / 2, 1.0), min(cy + h / 2, 1.0)
        objects.append((c, x1, y1, x2, y2, 0))
    return objects, len(rows) if polygon else 0


def _bad(fields: list[str], polygon: bool, known: set | None) -> str:
    """Why a row cannot be read ('' if it can)."""
    if polygon and (len(fields) < 7 or len(fields) % 2 == 0):
        return f"a polygon row needs a class and at least 3 x y pairs, got {len(fields)} fields"
    if not polygon and len(fields) != 5:
        return f"expected 5 fields (class cx cy w h), got {len(fields)}"
    if not fields[0].isdigit():
        return f"class {fields[0]!r} is not an integer >= 0"
    if known is not None and int(fields[0]) not in known:
        return f"class {fields[0]} is not in data.yaml's names"
    try:
        v = [float(x) for x in fields[1:]]
    except ValueError:
        return "coordinates must be numbers"
    if not all(math.isfinite(x) and 0.0 <= x <= 1.0 for x in v):
        return "coordinates must be normalised to [0, 1]"
    return ""


def label_text(objects: list[list], ids: list, w: int, h: int) -> bytes:
    """An output image's label file: class cx cy w h per object, normalised to its w x h."""
    lines = []
    for c, x1, y1, x2, y2, *_ in objects:
        lines.append(f"{ids[c]} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}\n")
    return "".join(lines).encode()


def data_yaml(categories: list[dict]) -> bytes:
    """OUT/data.yaml: OUT itself is the dataset, its images for training and validation. No
    path key: Ultralytics then resolves train and val against the file's own folder (a relative
    path, even '.', it resolves against the working directory or its datasets_dir)."""
    names = "".join(f"\n  {c['id']}: {json.dumps(c['name'])}" for c in categories) or " {}"
    return f"# OUT of mixcli: train and val are relative to this file's folder\ntrain: {IMAGES}\nval: {IMAGES}\nnames:{names}\n".encode()

"""Reading a dataset: its CSV (or class folders), the store its images are in, and each row's label.

Layouts: a CSV (DATA/train.csv, --csv PATH, or --csv - for stdin) whose image paths are
relative to DATA, DATA/train or --image-dir; or class folders, DATA/<class>/<image> (also
DATA/train/<class>/...), as torchvision's ImageFolder, used when there is no CSV; or a
detection dataset, YOLO's or COCO's (mixcli.annotations), whose rows carry objects and no
class label. Any layout may have label maps (--label-maps DIR). DATA and
the others may be local folders or object-store URLs (mixcli.store). Every problem is found
here, before anything is written, and raised as a MixcliError naming the offending rows.
"""

import hashlib
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from ..annotations import coco, yolo
from ..annotations.objects import Objects
from ..columns import (
    FILE_NAME,
    IMAGE,
    LABEL,
    METADATA,
    OBJECTS,
    SOFT_PREFIX,
    SPARSE,
    TABLE,
)
from ..errors import MixcliError, UsageError, listing
from ..store import Store, open_file, open_store
from . import STDIN
from .csvfile import hard_targets, read_table, soft_columns, targets
from .labels import Targets

# Files a class folder's images are recognised by (case-insensitive); hidden files are skipped.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class Dataset:
    """images: the images as the CSV writes them (or class/name in class folders), keys of the
    store root; targets: each row's label weights; digest: sha256 of the CSV's bytes or of the
    folder listing; ignored_columns: the p_ columns not read as soft labels; source: the
    folder the CSV was read from (None: standard input, or class folders). A detection
    dataset has objects and no class labels (targets None); invalid: its rows whose labels
    cannot be read (row -> why); notes: what of its labels was not read as given. maps: the
    folder of label maps, <image key with suffix .png> each (None: none)."""

    root: Store
    images: list[str]
    classes: list
    targets: Targets | None
    digest: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    source: Store | None = None
    objects: Objects | None = None
    invalid: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    maps: Store | None = None

    def __len__(self) -> int:
        return len(self.images)

    @property
    def inputs(self) -> list[Store]:
        """The folders the dataset is read from (OUT must not overlap them)."""
        return [self.root] + ([self.source] if self.source is not None else [])

    def where(self, i: int) -> str:
        """How the user names row i's image file."""
        return self.root.where(self.images[i])

    def map_key(self, i: int) -> str:
        """Row i's label map under maps: its image's key with suffix .png."""
        return str(PurePosixPath(self.images[i]).with_suffix(".png"))


def load_dataset(
    data, csv=None, image_dir=None, soft: bool = False, *,
    layout: str = "auto", image_col: str = IMAGE, label_col: str = LABEL, label_sep: str | None = None,
    annotations=None, label_maps=None, check_files: bool = True, skip_bad: bool = False,
) -> Dataset:
    """Read DATA's train.csv (or `csv`, or class folders) and find the images (DATA, DATA/train
    or `image_dir`); each place a path or a URL. soft: read the p_ columns as soft labels even
    beside a label column; layout: auto (class folders when there is no CSV and there are class
    folders), csv or folders; image_col, label_col: the CSV's column names; label_sep: labels are
    lists of classes joined by it (multi-label); annotations: COCO's file (layout coco);
    label_maps: the folder of label maps. check_files=False: the images are not looked for (a
    Ray task, whose driver found them under image_dir a moment ago: a store's listing is long).
    skip_bad: a detection dataset's unreadable label files mark their rows invalid, else they stop the run."""
    data = open_store(data)
    images_at = open_store(image_dir) if image_dir is not None else None
    if layout == "auto":
        layout = _layout(data, csv, images_at)
    if annotations is not None and layout != "coco":
        raise UsageError("--annotations goes with --layout coco")
    if layout in ("yolo", "coco"):
        ds = _detection(data, layout, annotations, skip_bad, csv, image_dir, label_sep)
    else:
        ds = _classes(data, csv, images_at, soft, layout, image_col, label_col, label_sep, check_files)
    if label_maps is None:
        return ds
    maps = open_store(label_maps)
    if not maps.is_folder():
        raise MixcliError(f"--label-maps {maps.where()} is not a folder")
    if check_files:
        found = maps.has([ds.map_key(i) for i in range(len(ds))])
        missing = [ds.map_key(i) for i, ok in enumerate(found) if not ok]
        if missing:
            raise MixcliError(f"{len(missing)} label map(s) not found under {maps.where()}: {listing(missing)}")
    return replace(ds, maps=maps)


def _layout(data: Store, csv, images_at: Store | None) -> str:
    """What --layout auto reads DATA as: yolo when it has images/ and labels/ and no train.csv,
    coco when it has annotations.json and no train.csv (or, for both, its train.csv is a mixcli
    detection output's: objects and no labels), a CSV when it has train.csv or metadata.csv,
    class folders when there is no CSV but folders, else a CSV."""
    if csv is not None:
        return "csv"
    if data.is_file(TABLE):
        with data.open(TABLE) as f:  # its header only: the whole CSV is read once, by the layout's reader
            head = f.readline().decode("utf-8-sig", errors="replace").rstrip("\r\n").split(",")
        if OBJECTS not in head or LABEL in head:
            return "csv"
        return "yolo" if data.is_folder(yolo.LABELS) else "coco" if data.is_file(coco.FILE) else "csv"
    if data.is_file(METADATA):  # Hugging Face's imagefolder (a mixcli OUT of --out-format imagefolder)
        return "csv"
    if data.is_folder(yolo.IMAGES) and data.is_folder(yolo.LABELS):
        return "yolo"
    if data.is_file(coco.FILE):
        return "coco"
    return "folders" if _class_root(data, images_at) is not None else "csv"


def _detection(data: Store, layout: str, annotations, skip_bad: bool, csv, image_dir, label_sep) -> Dataset:
    """A YOLO or COCO dataset: its images, their objects, no class labels."""
    for flag, given in (("--csv", csv), ("--image-dir", image_dir), ("--label-sep", label_sep)):
        if given is not None:
            raise UsageError(f"{flag} does not go with --layout {layout}")
    if layout == "yolo":
        got = yolo.read(data, IMAGE_EXTENSIONS)
        notes = [f"{got['polygons']} polygon(s) read as their bounding boxes"] if got["polygons"] else []
        invalid = got["invalid"]
        if invalid and not skip_bad:
            raise MixcliError(next(iter(invalid.values())) + (f" (and {len(invalid) - 1} more label file(s); --skip-bad drops their images)" if len(invalid) > 1 else ""))
    else:
        got = coco.read(data, open_file(annotations) if annotations is not None else None)
        notes = ["segmentation not read (boxes only)"] if got["segmented"] else []
        invalid = {}
    _no_line_breaks(got["images"], [], got["root"].where())
    return Dataset(root=got["root"], images=got["images"], classes=[], targets=None, digest=got["digest"],
                   objects=got["objects"], invalid=invalid, notes=notes)


def _classes(data: Store, csv, images_at, soft, layout, image_col, label_col, label_sep, check_files) -> Dataset:
    """A CSV's or class folders' dataset: each row's class label."""
    if layout == "folders":
        if csv is not None:
            raise UsageError("--csv and --layout folders exclude each other")
        return _folder_dataset(data, images_at, label_sep)
    source, key = open_file(csv) if csv is not None and os.fspath(csv) != STDIN else (data, _table(data))
    if key == METADATA and image_col == IMAGE:  # imagefolder's image column
        image_col = FILE_NAME
    stdin = csv is not None and os.fspath(csv) == STDIN
    name = "stdin" if stdin else source.where(key)
    raw = sys.stdin.buffer.read() if stdin else _csv_bytes(source, key)
    table = read_table(raw, name, soft, image_col, label_col)
    images = table[IMAGE].tolist()
    roots = [images_at] if images_at is not None else _roots(data)
    found = [r.has(images) for r in roots] if check_files else [[True] * len(images)]
    best = max(range(len(roots)), key=lambda k: sum(found[k]))  # the first root on a tie
    root = roots[best]
    missing = [image for image, ok in zip(images, found[best]) if not ok]
    if missing:
        raise MixcliError(f"{len(missing)} image(s) listed in {name} not found under {root.where()}: {listing(missing)}")
    used = soft_columns(table.columns, soft)
    classes, weights = targets(table, used, name, label_sep)
    _no_line_breaks(images, classes, name)
    ignored = [c for c in table.columns if (c.startswith(SOFT_PREFIX) or c == SPARSE) and c not in used]
    return Dataset(
        root=root, images=images, classes=classes, targets=weights, digest=hashlib.sha256(raw).hexdigest(),
        ignored_columns=ignored, source=None if stdin else source,
    )


def _table(data: Store) -> str:
    """DATA's table: train.csv, else a Hugging Face imagefolder's metadata.csv."""
    return METADATA if not data.is_file(TABLE) and data.is_file(METADATA) else TABLE


def _csv_bytes(store: Store, key: str) -> bytes:
    if not store.is_file(key):
        raise MixcliError(f"no CSV at {store.where(key)} (expected columns image,label, or class folders DATA/<class>/<image>; see --csv)")
    try:
        return store.read(key)
    except OSError as e:
        raise MixcliError(f"cannot read {store.where(key)}: {e.strerror}") from None


def _no_line_breaks(images: list[str], classes: list, name: str) -> None:
    """Refuse a line break in an image path or a class: train.csv keeps one row a line."""
    bad = next((v for v in [*images, *map(str, classes)] if "\n" in v or "\r" in v), None)
    if bad is not None:
        raise MixcliError(f"{name}: {bad!r} holds a line break; image paths and classes must not")


def _roots(data: Store) -> list[Store]:
    """Where the images may be: DATA, and DATA/train if it exists (chosen when more are found there)."""
    return [data, data.sub("train")] if data.is_folder("train") else [data]


def _class_root(data: Store, images_at: Store | None) -> Store | None:
    """The folder holding the class folders — image_dir, else DATA/train if it exists, else DATA —
    or None if it holds none (so DATA/train itself is never taken for a class)."""
    root = images_at if images_at is not None else (data.sub("train") if data.is_folder("train") else data)
    if root.is_folder() and any(folder and not name.startswith(".") for name, folder in root.entries()):
        return root
    return None


def _folder_dataset(data: Store, images_at: Store | None, label_sep: str | None) -> Dataset:
    """Class folders: each non-hidden folder of the root is a class, its images (any depth) its rows."""
    if label_sep is not None:
        raise UsageError("--label-sep needs a CSV: a class folder gives one class per image")
    root = _class_root(data, images_at)
    if root is None:
        raise MixcliError(f"no class folders under {(images_at or data).where()} (expected DATA/<class>/<image>)")
    images, labels = [], []
    for name in [name for name, folder in root.entries() if folder and not name.startswith(".")]:
        found = [f"{name}/{key}" for key in root.files(name, hidden=False) if key.lower().endswith(IMAGE_EXTENSIONS)]
        if not found:
            raise MixcliError(f"class folder {root.where(name)} holds no image ({', '.join(IMAGE_EXTENSIONS)})")
        images += found
        labels += [name] * len(found)
    listing_text = "".join(f"{i}\t{c}\n" for i, c in zip(images, labels))
    classes, weights = hard_targets(labels, None)
    _no_line_breaks(images, classes, root.where())
    return Dataset(root=root, images=images, classes=classes, targets=weights, digest=hashlib.sha256(listing_text.encode()).hexdigest())

"""Reading a dataset: train.csv (or class folders), its image root, and each row's label as a class vector.

Layouts: a CSV (DATA/train.csv, --csv PATH, or --csv - for stdin) whose image paths are
relative to DATA, DATA/train or --image-dir; or class folders, DATA/<class>/<image> (also
DATA/train/<class>/...), as torchvision's ImageFolder, used when there is no CSV.

The `p_<class>` columns give soft labels when the CSV has no `label` column, is a previous
mixcli output (it has `op`, `source_a` and `lam`) or soft labels are asked for (--soft);
otherwise the `label` column gives one class per row and `p_` columns are left alone.
Classes are the labels (or column suffixes) as written: `01` and `1` are two classes.
Every problem is found here, before anything is written, and raised as a MixcliError
naming the offending rows.
"""

import csv as py_csv
import hashlib
import io
import os
import re
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import MixcliError, UsageError, listing
from .labels import Targets
from .store import is_remote, location
from .writer import Under

SOFT_PREFIX = "p_"
SPARSE_COLUMN = "soft_label"  # --label-format sparse: class:weight pairs joined by ';'
STDIN = Path("-")  # --csv -: the CSV comes on standard input
# Files a class folder's images are recognised by (case-insensitive); hidden files are skipped.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
# All three mark a mixcli output, whose p_ columns are the soft labels to chain from.
OUTPUT_COLUMNS = ("op", "source_a", "lam")
# Integers written canonically (str(int(x)) == x): no leading zeros, no '+', no '-0'.
_INT = re.compile(r"0|-?[1-9][0-9]*")


@dataclass(frozen=True)
class Dataset:
    """images: paths as written in the CSV (or class/name in class folders); files: where they
    are; targets: each row's label weights (labels.Targets); digest: sha256 of the CSV's bytes or of the folder listing;
    ignored_columns: the p_ columns not read as soft labels."""

    csv: Path | None
    root: Path
    images: list[str]
    files: Sequence[Path]
    classes: list
    targets: Targets
    digest: str = ""
    ignored_columns: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def inputs(self) -> list[Path]:
        """The folders the dataset is read from (OUT must not overlap them)."""
        return [self.root] + ([self.csv.parent] if self.csv is not None and self.csv != STDIN else [])


def load_dataset(
    data: Path, csv: Path | None = None, image_dir: Path | None = None, soft: bool = False, *,
    layout: str = "auto", image_col: str = "image", label_col: str = "label", label_sep: str | None = None,
    check_files: bool = True,
) -> Dataset:
    """Read DATA's train.csv (or `csv`, or class folders) and find the images (DATA, DATA/train
    or `image_dir`). soft: read the p_ columns as soft labels even beside a label column;
    layout: auto (class folders when there is no CSV and there are class folders), csv or
    folders; image_col, label_col: the CSV's column names; label_sep: labels are lists of
    classes joined by it (multi-label). check_files=False: the images are not looked for (a Ray
    task, whose driver found them under image_dir a moment ago: a store's listing is long)."""
    data = location(data)
    if layout == "auto":
        no_csv = csv is None and not (data / "train.csv").is_file()
        layout = "folders" if no_csv and _class_root(data, image_dir) is not None else "csv"
    if layout == "folders":
        return _folder_dataset(data, csv, image_dir, label_sep)
    csv = location(csv) if csv is not None else data / "train.csv"
    raw = _csv_bytes(csv)
    table = read_table(csv, soft, image_col, label_col, raw)
    images = table["image"].tolist()
    roots = [location(image_dir)] if image_dir is not None else _roots(data)
    found = [_present(r, images) for r in roots] if check_files else [[True] * len(images)]
    best = max(range(len(roots)), key=lambda k: sum(found[k]))  # the first root on a tie
    root = roots[best]
    missing = [name for name, ok in zip(images, found[best]) if not ok]
    if missing:
        raise MixcliError(f"{len(missing)} image(s) listed in {_name(csv)} not found under {root}: {listing(missing)}")
    used = _soft_columns(table.columns, soft)
    classes, targets = _targets(table, used, _name(csv), label_sep)
    _no_line_breaks(images, classes, _name(csv))
    files = Under(root, images)
    ignored = [c for c in table.columns if (c.startswith(SOFT_PREFIX) or c == SPARSE_COLUMN) and c not in used]
    return Dataset(
        csv=csv, root=root, images=images, files=files, classes=classes, targets=targets,
        digest=hashlib.sha256(raw).hexdigest(), ignored_columns=ignored,
    )


def _present(root, images: list[str]) -> list[bool]:
    """Whether each image is a file under root (in a store: from one listing, not a request an image)."""
    if not is_remote(root):
        return [os.path.isfile(os.path.join(root, name)) for name in images]
    objects = set(root.find())
    return [os.path.normpath(name).lstrip("/") in objects for name in images]


def _no_line_breaks(images: list[str], classes: list, name: str) -> None:
    """Refuse a line break in an image path or a class: train.csv keeps one row a line."""
    bad = next((v for v in [*images, *map(str, classes)] if "\n" in v or "\r" in v), None)
    if bad is not None:
        raise MixcliError(f"{name}: {bad!r} holds a line break; image paths and classes must not")


def _class_root(data: Path, image_dir: Path | None) -> Path | None:
    """The folder holding the class folders — image_dir, else DATA/train if it exists, else DATA —
    or None if it holds none (so DATA/train itself is never taken for a class)."""
    root = location(image_dir) if image_dir is not None else (data / "train" if (data / "train").is_dir() else data)
    if root.is_dir() and any(p.is_dir() and not p.name.startswith(".") for p in root.iterdir()):
        return root
    return None


def _folder_dataset(data: Path, csv: Path | None, image_dir: Path | None, label_sep: str | None) -> Dataset:
    """Class folders: each non-hidden folder of the root is a class, its images (any depth) its rows."""
    if csv is not None:
        raise UsageError("--csv and --layout folders exclude each other")
    if label_sep is not None:
        raise UsageError("--label-sep needs a CSV: a class folder gives one class per image")
    root = _class_root(data, image_dir)
    if root is None:
        raise MixcliError(f"no class folders under {image_dir or data} (expected DATA/<class>/<image>)")
    images, labels = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found = sorted(_images_under(folder, root))
        if not found:
            raise MixcliError(f"class folder {folder} holds no image ({', '.join(IMAGE_EXTENSIONS)})")
        images += found
        labels += [folder.name] * len(found)
    listing_text = "".join(f"{i}\t{c}\n" for i, c in zip(images, labels))
    classes, targets = _hard_targets(labels, None)
    _no_line_breaks(images, classes, str(root))
    return Dataset(
        csv=None, root=root, images=images, files=Under(root, images), classes=classes, targets=targets,
        digest=hashlib.sha256(listing_text.encode()).hexdigest(),
    )


def _images_under(folder: Path, root: Path) -> list[str]:
    """Image files under folder, any depth, hidden files and folders skipped, as paths relative to root."""
    found = []
    if is_remote(folder):
        inside = (f"{folder.name}/{name}" for name in folder.find())
        return [name for name in inside if not any(part.startswith(".") for part in name.split("/")) and name.lower().endswith(IMAGE_EXTENSIONS)]
    for here, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS):
                found.append((Path(here) / name).relative_to(root).as_posix())
    return found


def _name(csv: Path) -> str:
    return "stdin" if csv == STDIN else str(csv)


def _csv_bytes(csv: Path) -> bytes:
    """The CSV's bytes, from its file or from standard input (--csv -)."""
    if csv == STDIN:
        return sys.stdin.buffer.read()
    if not csv.is_file():
        raise MixcliError(f"no CSV at {csv} (expected columns image,label, or class folders DATA/<class>/<image>; see --csv)")
    try:
        return csv.read_bytes()
    except OSError as e:
        raise MixcliError(f"cannot read {csv}: {e.strerror}") from None


def _soft_columns(columns, soft: bool = False) -> list[str]:
    """The columns that are soft labels (a mixcli output's soft_label column, else its p_<class>
    columns): when there is no label column, the CSV is a mixcli output or `soft` asks so; else
    none (a user's p_value is just data)."""
    columns = list(columns)
    prefixed = [SPARSE_COLUMN] if SPARSE_COLUMN in columns else [c for c in columns if c.startswith(SOFT_PREFIX)]
    chained = all(c in columns for c in OUTPUT_COLUMNS)
    return prefixed if soft or chained or "label" not in columns else []


def read_table(csv: Path, soft: bool = False, image_col: str = "image", label_col: str = "label", raw: bytes | None = None) -> pd.DataFrame:
    """The CSV (its bytes raw, else read from csv) as strings, its image and label columns named
    `image` and `label`, checked for the columns and values mixcli needs (soft: as load_dataset)."""
    raw = _csv_bytes(csv) if raw is None else raw
    name = _name(csv)
    try:
        with warnings.catch_warnings():
            # pandas warns, and drops data, when rows have more fields than the header.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # Only empty cells are missing: a class may well be called "NA" or "None".
            table = pd.read_csv(
                io.BytesIO(raw), sep=_sniff_separator(raw, image_col), dtype=str, encoding="utf-8-sig",
                index_col=False, keep_default_na=False, na_values=[""],
            )
    except pd.errors.ParserWarning:
        raise MixcliError(f"cannot read {name}: rows have more fields than the header") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise MixcliError(f"cannot read {name}: {str(e).splitlines()[0]}") from None
    table.columns = [str(c).strip() for c in table.columns]
    given = {"image": image_col, "label": label_col}
    for role, col in given.items():
        if col != role:  # the user's column takes the role; a column named after the role is not it
            table = table.drop(columns=[role], errors="ignore").rename(columns={col: role})
    used = _soft_columns(table.columns, soft)
    if soft and not used:
        raise MixcliError(f"--soft: {name} has no {SOFT_PREFIX}<class> columns (columns: {', '.join(table.columns)})")
    needed = ["image"] + ([] if used else ["label"])
    absent = [given[c] for c in needed if c not in table.columns]
    if absent:
        raise MixcliError(f"{name} has no {' or '.join(absent)} column (columns: {', '.join(table.columns)})")
    if table.empty:
        raise MixcliError(f"{name} has no rows")
    for col in needed + used:
        table[col] = table[col].str.strip()
        empty = np.flatnonzero(table[col].isna() | (table[col] == "")).tolist()
        if empty:
            raise MixcliError(f"{name}: empty {given.get(col, col)} in {len(empty)} row(s): {_rows(empty)}")
    return table


def _sniff_separator(raw: bytes, image_col: str = "image") -> str:
    """The separator (',', ';' or tab) that makes the header name the image column; else ','."""
    header = raw.decode("utf-8-sig", errors="replace").split("\n", 1)[0].rstrip("\r")
    for sep in (",", ";", "\t"):
        if image_col in (field.strip() for field in next(py_csv.reader([header], delimiter=sep), [])):
            return sep
    return ","


def _roots(data: Path) -> list[Path]:
    """Where the images may be: DATA, and DATA/train if it exists (chosen when more are found there)."""
    return [data, data / "train"] if (data / "train").is_dir() else [data]


def _targets(table: pd.DataFrame, soft: list[str], name: str, label_sep: str | None = None) -> tuple[list, Targets]:
    """Sorted classes and the label weights (soft: the columns to read, or none)."""
    if soft == [SPARSE_COLUMN]:
        return _sparse_targets(table[SPARSE_COLUMN].tolist(), name)
    if soft:
        classes, conv = _sorted_classes([c[len(SOFT_PREFIX):] for c in soft])
        column = {conv(c[len(SOFT_PREFIX):]): c for c in soft}
        try:
            targets = table[[column[c] for c in classes]].astype(np.float64).to_numpy()
        except ValueError:
            raise MixcliError(f"{name}: the {SOFT_PREFIX}<class> columns must hold numbers") from None
        bad = np.flatnonzero(~np.isfinite(targets).all(axis=1) | (targets < 0).any(axis=1))
        if len(bad):
            raise MixcliError(f"{name}: label weights must be finite and >= 0, not in row(s) {_rows(bad)}")
        return classes, Targets.from_dense(targets)
    labels = table["label"].tolist()
    if label_sep is not None:
        empty = [k for k, v in enumerate(labels) if not _split(v, label_sep)]
        if empty:
            raise MixcliError(f"{name}: no class in the label of {len(empty)} row(s): {_rows(empty)}")
    return _hard_targets(labels, label_sep)


def _sparse_targets(values: list[str], name: str) -> tuple[list, Targets]:
    """Classes and targets from soft_label values (class:weight pairs joined by ';')."""
    try:
        rows = [[(c.strip(), float(w)) for c, _, w in (pair.rpartition(":") for pair in v.split(";"))] for v in values]
    except ValueError:
        rows = None
    if rows is None or any(not c for pairs in rows for c, _ in pairs):
        raise MixcliError(f"{name}: {SPARSE_COLUMN} must hold class:weight pairs joined by ';'")
    bad = [r for r, pairs in enumerate(rows) if any(not (np.isfinite(w) and w >= 0) for _, w in pairs)]
    if bad:
        raise MixcliError(f"{name}: label weights must be finite and >= 0, not in row(s) {_rows(bad)}")
    classes, conv = _sorted_classes([c for pairs in rows for c, _ in pairs])
    index = {c: k for k, c in enumerate(classes)}
    merged = []
    for pairs in rows:
        row: dict[int, float] = {}
        for c, w in pairs:
            k = index[conv(c)]
            row[k] = row.get(k, 0.0) + w
        merged.append(row)
    return classes, Targets.from_rows(merged, len(classes))


def _split(label: str, sep: str) -> list[str]:
    return [part.strip() for part in label.split(sep) if part.strip()]


def _hard_targets(labels: list[str], label_sep: str | None) -> tuple[list, Targets]:
    """Classes and one-hot targets (multi-hot with label_sep: each label a sep-joined list of classes)."""
    if label_sep is None:
        classes, conv = _sorted_classes(labels)
        index = {c: k for k, c in enumerate(classes)}
        return classes, Targets.one_hot(np.array([index[conv(v)] for v in labels], dtype=np.int64), len(classes))
    lists = [_split(v, label_sep) for v in labels]
    classes, conv = _sorted_classes([c for names in lists for c in names])
    index = {c: k for k, c in enumerate(classes)}
    return classes, Targets.from_rows([{index[conv(c)]: 1.0 for c in names} for names in lists], len(classes))


def _sorted_classes(names: list[str]) -> tuple[list, type]:
    """Distinct class names and their type: ints, sorted numerically, when all are canonical
    integers; else the strings as written (so `01` and `1` stay two classes)."""
    conv = int if all(_INT.fullmatch(v) for v in names) else str
    return sorted({conv(v) for v in names}), conv


def _rows(index) -> str:
    """CSV line numbers (header is line 1) of table rows."""
    return listing([str(i + 2) for i in index])

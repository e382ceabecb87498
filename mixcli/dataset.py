"""Reading a dataset: train.csv, its image root, and each row's label as a class vector.

The `p_<class>` columns give soft labels when the CSV has no `label` column, is a previous
mixcli output (it has `op`, `source_a` and `lam`) or soft labels are asked for (--soft);
otherwise the `label` column gives one class per row and `p_` columns are left alone.
Classes are the labels (or column suffixes) as written: `01` and `1` are two classes.
Every problem is found here, before anything is written, and raised as a MixcliError
naming the offending rows.
"""

import csv as py_csv
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import MixcliError, listing

SOFT_PREFIX = "p_"
# All three mark a mixcli output, whose p_ columns are the soft labels to chain from.
OUTPUT_COLUMNS = ("op", "source_a", "lam")
# Integers written canonically (str(int(x)) == x): no leading zeros, no '+', no '-0'.
_INT = re.compile(r"0|-?[1-9][0-9]*")


@dataclass(frozen=True)
class Dataset:
    """images: paths as written in the CSV; files: where they are; targets: (rows, classes);
    ignored_columns: the p_ columns not read as soft labels."""

    csv: Path
    root: Path
    images: list[str]
    files: list[Path]
    classes: list
    targets: np.ndarray
    ignored_columns: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)


def load_dataset(data: Path, csv: Path | None = None, image_dir: Path | None = None, soft: bool = False) -> Dataset:
    """Read DATA's train.csv (or `csv`) and find the images (DATA, DATA/train or `image_dir`);
    soft: read the p_ columns as soft labels even beside a label column."""
    csv = Path(csv) if csv is not None else Path(data) / "train.csv"
    table = read_table(csv, soft)
    images = table["image"].tolist()
    roots = [Path(image_dir)] if image_dir is not None else _roots(Path(data))
    found = [[os.path.isfile(os.path.join(r, name)) for name in images] for r in roots]
    best = max(range(len(roots)), key=lambda k: sum(found[k]))  # the first root on a tie
    root = roots[best]
    missing = [name for name, ok in zip(images, found[best]) if not ok]
    if missing:
        raise MixcliError(f"{len(missing)} image(s) listed in {csv} not found under {root}: {listing(missing)}")
    used = _soft_columns(table.columns, soft)
    classes, targets = _targets(table, used, csv)
    files = [root / name for name in images]
    ignored = [c for c in table.columns if c.startswith(SOFT_PREFIX) and c not in used]
    return Dataset(csv=csv, root=root, images=images, files=files, classes=classes, targets=targets, ignored_columns=ignored)


def _soft_columns(columns, soft: bool = False) -> list[str]:
    """The p_<class> columns that are soft labels: all of them when there is no label column,
    the CSV is a mixcli output or `soft` asks so; else none (a user's p_value is just data)."""
    columns = list(columns)
    prefixed = [c for c in columns if c.startswith(SOFT_PREFIX)]
    chained = all(c in columns for c in OUTPUT_COLUMNS)
    return prefixed if soft or chained or "label" not in columns else []


def read_table(csv: Path, soft: bool = False) -> pd.DataFrame:
    """The CSV as strings, checked for the columns and values mixcli needs (soft: as load_dataset)."""
    if not csv.is_file():
        raise MixcliError(f"no CSV at {csv} (expected columns image,label; see --csv)")
    try:
        with warnings.catch_warnings():
            # pandas warns, and drops data, when rows have more fields than the header.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # Only empty cells are missing: a class may well be called "NA" or "None".
            table = pd.read_csv(
                csv, sep=_sniff_separator(csv), dtype=str, encoding="utf-8-sig", index_col=False,
                keep_default_na=False, na_values=[""],
            )
    except pd.errors.ParserWarning:
        raise MixcliError(f"cannot read {csv}: rows have more fields than the header") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise MixcliError(f"cannot read {csv}: {str(e).splitlines()[0]}") from None
    except OSError as e:
        raise MixcliError(f"cannot read {csv}: {e.strerror}") from None
    table.columns = [str(c).strip() for c in table.columns]
    used = _soft_columns(table.columns, soft)
    if soft and not used:
        raise MixcliError(f"--soft: {csv} has no {SOFT_PREFIX}<class> columns (columns: {', '.join(table.columns)})")
    needed = ["image"] + ([] if used else ["label"])
    absent = [c for c in needed if c not in table.columns]
    if absent:
        raise MixcliError(f"{csv} has no {' or '.join(absent)} column (columns: {', '.join(table.columns)})")
    if table.empty:
        raise MixcliError(f"{csv} has no rows")
    for col in needed + used:
        table[col] = table[col].str.strip()
        empty = np.flatnonzero(table[col].isna() | (table[col] == "")).tolist()
        if empty:
            raise MixcliError(f"{csv}: empty {col} in {len(empty)} row(s): {_rows(empty)}")
    return table


def _sniff_separator(csv: Path) -> str:
    """The separator (',', ';' or tab) that makes the header name an `image` column; else ','."""
    with open(csv, encoding="utf-8-sig", errors="replace") as f:
        header = f.readline()
    for sep in (",", ";", "\t"):
        if "image" in (field.strip() for field in next(py_csv.reader([header], delimiter=sep), [])):
            return sep
    return ","


def _roots(data: Path) -> list[Path]:
    """Where the images may be: DATA, and DATA/train if it exists (chosen when more are found there)."""
    return [data, data / "train"] if (data / "train").is_dir() else [data]


def _targets(table: pd.DataFrame, soft: list[str], csv: Path) -> tuple[list, np.ndarray]:
    """Sorted classes and a (rows, classes) float64 array of label weights (soft: the p_ columns to read, or none)."""
    if soft:
        classes, conv = _sorted_classes([c[len(SOFT_PREFIX):] for c in soft])
        column = {conv(c[len(SOFT_PREFIX):]): c for c in soft}
        try:
            targets = table[[column[c] for c in classes]].astype(np.float64).to_numpy()
        except ValueError:
            raise MixcliError(f"{csv}: the {SOFT_PREFIX}<class> columns must hold numbers") from None
        bad = np.flatnonzero(~np.isfinite(targets).all(axis=1) | (targets < 0).any(axis=1))
        if len(bad):
            raise MixcliError(f"{csv}: label weights must be finite and >= 0, not in row(s) {_rows(bad)}")
        return classes, targets
    labels = table["label"].tolist()
    classes, conv = _sorted_classes(labels)
    index = {c: k for k, c in enumerate(classes)}
    targets = np.zeros((len(labels), len(classes)))
    targets[np.arange(len(labels)), [index[conv(v)] for v in labels]] = 1.0
    return classes, targets


def _sorted_classes(names: list[str]) -> tuple[list, type]:
    """Distinct class names and their type: ints, sorted numerically, when all are canonical
    integers; else the strings as written (so `01` and `1` stay two classes)."""
    conv = int if all(_INT.fullmatch(v) for v in names) else str
    return sorted({conv(v) for v in names}), conv


def _rows(index) -> str:
    """CSV line numbers (header is line 1) of table rows."""
    return listing([str(i + 2) for i in index])

"""Reading a dataset's CSV: its columns, its rows as text, each row's label as class weights.

The `p_<class>` columns give soft labels when the CSV has no `label` column, is a previous
mixcli output (it has `op`, `source_a` and `lam`) or soft labels are asked for (--soft);
otherwise the `label` column gives one class per row and `p_` columns are left alone.
Classes are the labels (or column suffixes) as written: `01` and `1` are two classes.
Every problem is raised as a MixcliError naming the offending rows.
"""

import csv as py_csv
import io
import re
import warnings

import numpy as np
import pandas as pd

from ..columns import CHAINED, IMAGE, LABEL, SOFT_PREFIX, SPARSE
from ..errors import MixcliError, listing
from .labels import Targets

# Integers written canonically (str(int(x)) == x): no leading zeros, no '+', no '-0'.
_INT = re.compile(r"0|-?[1-9][0-9]*")


def soft_columns(columns, soft: bool = False) -> list[str]:
    """The columns that are soft labels (a mixcli output's soft_label column, else its p_<class>
    columns): when there is no label column, the CSV is a mixcli output or `soft` asks so; else
    none (a user's p_value is just data)."""
    columns = list(columns)
    prefixed = [SPARSE] if SPARSE in columns else [c for c in columns if c.startswith(SOFT_PREFIX)]
    chained = all(c in columns for c in CHAINED)
    return prefixed if soft or chained or LABEL not in columns else []


def read_table(raw: bytes, name: str, soft: bool = False, image_col: str = IMAGE, label_col: str = LABEL) -> pd.DataFrame:
    """The CSV's bytes (called `name` in messages) as strings, its image and label columns named
    `image` and `label`, checked for the columns and values mixcli needs (soft: read the p_
    columns as soft labels even beside a label column)."""
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
    given = {IMAGE: image_col, LABEL: label_col}
    for role, col in given.items():
        if col != role:  # the user's column takes the role; a column named after the role is not it
            table = table.drop(columns=[role], errors="ignore").rename(columns={col: role})
    used = soft_columns(table.columns, soft)
    if soft and not used:
        raise MixcliError(f"--soft: {name} has no {SOFT_PREFIX}<class> columns (columns: {', '.join(table.columns)})")
    needed = [IMAGE] + ([] if used else [LABEL])
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


def _sniff_separator(raw: bytes, image_col: str = IMAGE) -> str:
    """The separator (',', ';' or tab) that makes the header name the image column; else ','."""
    header = raw.decode("utf-8-sig", errors="replace").split("\n", 1)[0].rstrip("\r")
    for sep in (",", ";", "\t"):
        if image_col in (field.strip() for field in next(py_csv.reader([header], delimiter=sep), [])):
            return sep
    return ","


def targets(table: pd.DataFrame, soft: list[str], name: str, label_sep: str | None = None) -> tuple[list, Targets]:
    """Sorted classes and the label weights (soft: the columns to read, or none)."""
    if soft == [SPARSE]:
        return _sparse_targets(table[SPARSE].tolist(), name)
    if soft:
        classes, conv = _sorted_classes([c[len(SOFT_PREFIX):] for c in soft])
        column = {conv(c[len(SOFT_PREFIX):]): c for c in soft}
        try:
            weights = table[[column[c] for c in classes]].astype(np.float64).to_numpy()
        except ValueError:
            raise MixcliError(f"{name}: the {SOFT_PREFIX}<class> columns must hold numbers") from None
        bad = np.flatnonzero(~np.isfinite(weights).all(axis=1) | (weights < 0).any(axis=1))
        if len(bad):
            raise MixcliError(f"{name}: label weights must be finite and >= 0, not in row(s) {_rows(bad)}")
        return classes, Targets.from_dense(weights)
    labels = table[LABEL].tolist()
    if label_sep is not None:
        empty = [k for k, v in enumerate(labels) if not _split(v, label_sep)]
        if empty:
            raise MixcliError(f"{name}: no class in the label of {len(empty)} row(s): {_rows(empty)}")
    return hard_targets(labels, label_sep)


def _sparse_targets(values: list[str], name: str) -> tuple[list, Targets]:
    """Classes and targets from soft_label values (class:weight pairs joined by ';')."""
    try:
        rows = [[(c.strip(), float(w)) for c, _, w in (pair.rpartition(":") for pair in v.split(";"))] for v in values]
    except ValueError:
        rows = None
    if rows is None or any(not c for pairs in rows for c, _ in pairs):
        raise MixcliError(f"{name}: {SPARSE} must hold class:weight pairs joined by ';'")
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


def hard_targets(labels: list[str], label_sep: str | None) -> tuple[list, Targets]:
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

"""The output tables: train.csv (one row per written image) and skipped.csv."""

import numpy as np
import pandas as pd

from . import labels
from .dataset import SOFT_PREFIX, SPARSE_COLUMN, Dataset
from .mixing import ChunkResult
from .operations import REGISTRY
from .writer import in_folder, label_folder


def gather(results: list[ChunkResult]) -> tuple[list[int], list[tuple]]:
    """The output rows the chunks' results hold, in row order, and per row (op, sources, weights,
    boxes, mask, error)."""
    by_row: dict = {}
    for r in results:
        for k, i in enumerate(r.rows):
            if i in by_row:
                raise RuntimeError(f"row {i} is in two chunk results")
            by_row[i] = (r.op[k], r.sources[k], r.weights[k], r.boxes[k], r.mask[k], r.error[k])
    rows = sorted(by_row)
    return rows, [by_row[i] for i in rows]


def output_table(job, ds: Dataset, names: list[str], masks: list[str] | None, g: list[tuple]) -> pd.DataFrame:
    """train.csv as a DataFrame, in the column order the README documents (names, masks: the
    outputs relative to OUT, from writer.output_names; g: from gather)."""
    op, sources, weights, boxes, has_mask, error = zip(*g)
    width = max(len(s) for s in sources)
    src = np.array([s + [-1] * (width - len(s)) for s in sources], dtype=np.int64)
    w = np.array([ws + [0.0] * (width - len(ws)) for ws in weights], dtype=np.float64)
    targets = labels.mix(labels.smooth(ds.targets, job.label_smoothing), src, w)
    first_box = [b[0] if b and REGISTRY.get(o) is not None and REGISTRY[o].box_columns else None for o, b in zip(op, boxes)]
    hard = labels.hard_labels(targets, ds.classes, job.label_sep)
    if job.out_layout == "folders":  # images/<label>/<name>, as mixing.run_chunk wrote them
        names = [in_folder(name, label_folder(label)) for name, label in zip(names, hard)]
    if job.label_format == "sparse":
        soft = {SPARSE_COLUMN: sparse_labels(targets, ds.classes)}
    else:
        soft = {f"{SOFT_PREFIX}{c}": targets[:, k] for k, c in enumerate(ds.classes)}
    table = pd.DataFrame({
        "image": names,
        "label": hard,
        **soft,
        "op": list(op),
        "source_a": [ds.images[s[0]] for s in sources],
        "source_b": [ds.images[s[1]] if len(s) > 1 else "" for s in sources],
        "lam": w[:, 0],
    })
    for col, k in (("x1", 2), ("y1", 0), ("x2", 3), ("y2", 1)):
        table[col] = pd.array([b[k] if b is not None else None for b in first_box], dtype="Int64")
    table["sources"] = [";".join(ds.images[j] for j in s) for s in sources]
    table["weights"] = [";".join(repr(float(x)) for x in ws) for ws in weights]
    table["boxes"] = [";".join(f"{x1} {y1} {x2} {y2}" for y1, y2, x1, x2 in b) for b in boxes]
    table["mask"] = [masks[i] if m else "" for i, m in enumerate(has_mask)]
    return table[np.array(error) == ""].reset_index(drop=True)


def sparse_labels(targets: np.ndarray, classes: list) -> list[str]:
    """Each row's label weights as class:weight pairs joined by ';', in class order, zeros left out."""
    names = [str(c) for c in classes]
    rows, cols = np.nonzero(targets)
    out = [[] for _ in range(len(targets))]
    for r, c in zip(rows.tolist(), cols.tolist()):
        out[r].append(f"{names[c]}:{float(targets[r, c])!r}")
    return [";".join(pairs) for pairs in out]


def skipped_rows(ds: Dataset, g: list[tuple]) -> list[tuple[int, str, str]]:
    """The input rows dropped by --skip-bad, once each in input order: (row, image, why) (g: from gather)."""
    bad = {}
    for _, sources, _, _, _, error in g:
        if error:
            bad.setdefault(sources[0], error)
    return [(i, ds.images[i], bad[i]) for i in sorted(bad)]

"""The output tables: train.csv (one row per written image) and skipped.csv."""

import numpy as np
import pandas as pd

from . import labels
from .dataset import SOFT_PREFIX, Dataset
from .mixing import ChunkResult
from .plan import OPS


def gather(n: int, results: list[ChunkResult]) -> dict[str, np.ndarray]:
    """Per-row arrays (op, partner, lam, box, error) from the chunks' results."""
    rows = np.concatenate([r.rows for r in results]).astype(np.int64) if results else np.zeros(0, np.int64)
    if sorted(rows.tolist()) != list(range(n)):
        raise RuntimeError("chunk results do not cover every row exactly once")
    flat = {
        "op": np.concatenate([r.op for r in results]).astype(np.int8),
        "partner": np.concatenate([r.partner for r in results]).astype(np.int64),
        "lam": np.concatenate([r.lam for r in results]).astype(np.float64),
        "box": np.array([b if b else [-1] * 4 for r in results for b in r.box], dtype=np.int64).reshape(-1, 4),
        "error": np.array([e for r in results for e in r.error], dtype=object),
    }
    order = np.argsort(rows)
    return {k: v[order] for k, v in flat.items()}


def output_table(job, ds: Dataset, names: list[str], g: dict[str, np.ndarray]) -> pd.DataFrame:
    """train.csv as a DataFrame, in the column order the README documents (names: the outputs
    relative to OUT, from writer.output_names; g: from gather)."""
    keep = g["error"] == ""
    targets = labels.mix(labels.smooth(ds.targets, job.label_smoothing), g["partner"], g["lam"])
    has_box = g["box"][:, 0] >= 0
    table = pd.DataFrame({
        "image": names,
        "label": labels.hard_labels(targets, ds.classes),
        **{f"{SOFT_PREFIX}{c}": targets[:, k] for k, c in enumerate(ds.classes)},
        "op": [OPS[o] for o in g["op"]],
        "source_a": ds.images,
        "source_b": [ds.images[j] if j >= 0 else "" for j in g["partner"]],
        "lam": g["lam"],
    })
    for col, k in (("x1", 2), ("y1", 0), ("x2", 3), ("y2", 1)):
        table[col] = pd.array(np.where(has_box, g["box"][:, k], 0), dtype="Int64")
        table.loc[~has_box, col] = pd.NA
    return table[keep].reset_index(drop=True)


def skipped_table(ds: Dataset, g: dict[str, np.ndarray]) -> pd.DataFrame:
    """skipped.csv: the input rows dropped by --skip-bad, with why (g: from gather)."""
    bad = np.flatnonzero(g["error"] != "")
    return pd.DataFrame({"image": [ds.images[i] for i in bad], "error": [g["error"][i] for i in bad]})

"""Soft labels: smoothing, mixing by the recorded weights, and the output table's label columns."""

import numpy as np


def smooth(targets: np.ndarray, eps: float) -> np.ndarray:
    """y = (1 - eps) * y + eps / K, row by row (K classes)."""
    return (1.0 - eps) * targets + eps / targets.shape[1]


def mix(targets: np.ndarray, sources: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum_k weights[i, k] * y[sources[i, k]] per row i, in source order (sources, weights:
    (rows, S); a source of -1 pads a row with fewer sources, its weight must be 0)."""
    rows = np.where(sources >= 0, sources, 0)
    out = weights[:, :1] * targets[rows[:, 0]]
    for k in range(1, sources.shape[1]):
        out += weights[:, k : k + 1] * targets[rows[:, k]]
    return out


def hard_labels(targets: np.ndarray, classes: list, sep: str | None = None) -> list:
    """The class with the largest weight per row (the first in class order on ties); with sep
    (multi-label), the classes of weight >= 0.5, in class order, joined by sep."""
    if sep is not None:
        return [sep.join(str(c) for c, w in zip(classes, row) if w >= 0.5) for row in targets]
    return [classes[k] for k in np.argmax(targets, axis=1)]


def row_label(targets: np.ndarray, classes: list, sources: list[int], weights, sep: str | None = None) -> object:
    """The label of one row mixed from `sources` with `weights` (the same arithmetic as mix)."""
    return hard_labels(mix(targets, np.array([sources]), np.array([weights], dtype=np.float64)), classes, sep)[0]

"""Soft labels: smoothing, mixing by a plan, and the output table's label columns."""

import numpy as np


def smooth(targets: np.ndarray, eps: float) -> np.ndarray:
    """y = (1 - eps) * y + eps / K, row by row (K classes)."""
    return (1.0 - eps) * targets + eps / targets.shape[1]


def mix(targets: np.ndarray, partner: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """lam[i] * y[i] + (1 - lam[i]) * y[partner[i]]; rows with lam 1 keep their label."""
    b = targets[np.where(partner >= 0, partner, np.arange(len(partner)))]
    return lam[:, None] * targets + (1.0 - lam[:, None]) * b


def hard_labels(targets: np.ndarray, classes: list) -> list:
    """The class with the largest weight per row (the first in class order on ties)."""
    return [classes[k] for k in np.argmax(targets, axis=1)]

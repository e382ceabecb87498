"""Soft labels: held sparsely, smoothed and mixed by the recorded weights a block of rows at a
time, and written as the output table's label columns.

A dataset's labels are a Targets: per input row, its classes and their weights (compressed
sparse rows), so memory grows with the rows and the classes a row has, never with rows x
classes. Only a block of output rows is ever dense, with the same float arithmetic as before.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Targets:
    """Row i's label weights: values[indptr[i]:indptr[i+1]] for classes indices[...] (of num_classes)."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    num_classes: int

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), self.num_classes

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Dense (rows, classes): for small datasets and tests, never in a run."""
        out = self.dense(np.arange(len(self)))
        return out if dtype is None else out.astype(dtype)

    @classmethod
    def one_hot(cls, index: np.ndarray, num_classes: int) -> "Targets":
        """Row i: class index[i], weight 1."""
        n = len(index)
        return cls(np.arange(n + 1, dtype=np.int64), np.asarray(index, dtype=np.int32), np.ones(n), num_classes)

    @classmethod
    def from_rows(cls, rows: list[dict[int, float]], num_classes: int) -> "Targets":
        """Row i: the weights of dict rows[i] (class index -> weight)."""
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(r) for r in rows])
        keys = [k for r in rows for k in sorted(r)]
        values = [r[k] for r in rows for k in sorted(r)]
        return cls(indptr, np.array(keys, dtype=np.int32), np.array(values, dtype=np.float64), num_classes)

    @classmethod
    def from_dense(cls, dense: np.ndarray) -> "Targets":
        rows, cols = np.nonzero(dense)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(dense)))])
        return cls(indptr.astype(np.int64), cols.astype(np.int32), dense[rows, cols].astype(np.float64), dense.shape[1])

    def dense(self, rows: np.ndarray) -> np.ndarray:
        """The (len(rows), num_classes) float64 weights of the given input rows."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), self.num_classes))
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        counts = ends - starts
        which = np.repeat(np.arange(len(rows)), counts)
        at = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(int(counts.sum()))
        out[which, self.indices[at]] = self.values[at]
        return out

    def hard(self) -> np.ndarray:
        """Each row's class of largest weight (the first in class order on ties; 0 for an empty row)."""
        out = np.zeros(len(self), dtype=np.int64)
        counts = np.diff(self.indptr)
        full = np.flatnonzero(counts)
        if len(full):
            top = np.maximum.reduceat(self.values, self.indptr[full])
            row = np.repeat(np.arange(len(self)), counts)
            at_top = np.flatnonzero(self.values == top[np.searchsorted(full, row)])
            _, first = np.unique(row[at_top], return_index=True)  # classes are sorted within a row
            out[full] = self.indices[at_top[first]]
        return out


def smooth(targets: np.ndarray, eps: float) -> np.ndarray:
    """y = (1 - eps) * y + eps / K, row by row (K classes)."""
    return (1.0 - eps) * targets + eps / targets.shape[1]


def mix(targets: "Targets | np.ndarray", sources: np.ndarray, weights: np.ndarray, eps: float = 0.0) -> np.ndarray:
    """sum_k weights[i, k] * smooth(y[sources[i, k]]) per row i, in source order (sources, weights:
    (rows, S); a source of -1 pads a row with fewer sources, its weight must be 0). Dense: call it
    on a block of rows."""
    rows = np.where(sources >= 0, sources, 0)
    dense = targets.dense if isinstance(targets, Targets) else targets.__getitem__  # a dense array works too
    out = weights[:, :1] * smooth(dense(rows[:, 0]), eps)
    for k in range(1, sources.shape[1]):
        out += weights[:, k : k + 1] * smooth(dense(rows[:, k]), eps)
    return out


def mix_sparse(targets: Targets, sources: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """mix without smoothing, never dense: (row, class, weight) of every nonzero weight, sorted by
    row then class. The same floats as mix: each weight is the sum, in source order, of weight x
    label over the sources that have the class (the others add 0.0, which changes nothing)."""
    r_idx, s_idx = np.nonzero(sources >= 0)  # by row, then source
    src = sources[r_idx, s_idx]
    starts, counts = targets.indptr[src], targets.indptr[src + 1] - targets.indptr[src]
    item = np.repeat(np.arange(len(src)), counts)
    at = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(int(counts.sum()))
    rows, cls = r_idx[item], targets.indices[at].astype(np.int64)
    val = weights[r_idx, s_idx][item] * targets.values[at]
    order = np.lexsort((np.arange(len(rows)), cls, rows))  # stable: sources stay in order within a class
    rows, cls, val = rows[order], cls[order], val[order]
    first = np.flatnonzero(np.concatenate([[True], (rows[1:] != rows[:-1]) | (cls[1:] != cls[:-1])])) if len(rows) else np.zeros(0, np.int64)
    length = np.diff(np.append(first, len(rows)))
    sums = val[first].copy()
    for j in range(1, int(length.max(initial=1))):  # left to right, as mix adds (np.add.reduceat does not)
        more = length > j
        sums[more] += val[first[more] + j]
    rows, cls = rows[first], cls[first]
    keep = sums != 0
    return rows[keep], cls[keep], sums[keep]


def hard_labels(targets: np.ndarray, classes: list, sep: str | None = None) -> list:
    """The class with the largest weight per row (the first in class order on ties); with sep
    (multi-label), the classes of weight >= 0.5, in class order, joined by sep."""
    if sep is not None:
        return [sep.join(str(classes[k]) for k in np.flatnonzero(row >= 0.5)) for row in targets]
    return [classes[k] for k in np.argmax(targets, axis=1)]


def row_label(targets: Targets, classes: list, sources: list[int], weights, eps: float = 0.0, sep: str | None = None) -> object:
    """The label of one row mixed from `sources` with `weights` (the same arithmetic as mix)."""
    return hard_labels(mix(targets, np.array([sources]), np.array([weights], dtype=np.float64), eps), classes, sep)[0]


@dataclass(frozen=True)
class Remix:
    """Remix's label weights (Chou et al., "Remix: Rebalanced Mixup", ECCV 2020 workshops): a
    two-source row's own image weighs 0 when its class is at least kappa times as common as its
    partner's and its pixel weight lam < tau, 1 when at most 1/kappa times as common and
    1 - lam < tau, else lam. hard: each input row's class; counts: the input rows of each class."""

    kappa: float
    tau: float
    hard: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, targets: Targets, kappa: float, tau: float) -> "Remix":
        hard = targets.hard()
        return cls(kappa, tau, hard, np.bincount(hard, minlength=targets.num_classes))

    def weights(self, sources: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The label weights of rows with these sources and pixel weights ((rows, S), padded with
        -1 and 0). Rows of another number of sources than 2 keep theirs, and so do rows Remix leaves at lam."""
        out = weights.copy()
        two = np.flatnonzero((sources >= 0).sum(axis=1) == 2)
        lam = weights[two, 0]
        ratio = self.counts[self.hard[sources[two, 0]]] / self.counts[self.hard[sources[two, 1]]]
        lam_y = np.where((ratio >= self.kappa) & (lam < self.tau), 0.0, np.where((ratio <= 1 / self.kappa) & (1 - lam < self.tau), 1.0, lam))
        moved = lam_y != lam
        out[two[moved], 0], out[two[moved], 1] = lam_y[moved], 1.0 - lam_y[moved]
        return out

    def row(self, sources: list[int], weights) -> list[float]:
        """weights for one row."""
        width = max(2, len(sources))
        src = np.array([list(sources) + [-1] * (width - len(sources))])
        return self.weights(src, np.array([list(weights) + [0.0] * (width - len(weights))], dtype=np.float64))[0, : len(sources)].tolist()

"""Class-aware partners (--pairing), drawn from the plan's pairing stream before anything runs.

    random       the next rows of a shuffled cycle (the plan's chunks; not drawn here)
    cross-class  each partner uniform over the images that share no class with the row's own
    balanced     each partner's class uniform over the classes, then an image uniform within it
                 (Balanced-MixUp, Galdran et al., "Balanced-MixUp for Highly Imbalanced Medical
                 Image Classification", MICCAI 2021)

A row's partners are drawn independently of each other (mosaic's three may repeat) and are never
the row itself. Classes are each row's hard label (its class of largest weight), or with
multi-label data every class it has.
"""

from dataclasses import dataclass

import numpy as np

ROUNDS = 64  # rejection rounds before the rows still unpaired are paired by listing their candidates


class PairingError(ValueError):
    """The dataset's classes admit no partner for some row."""


@dataclass(frozen=True)
class Members:
    """Each input row's classes: row i has classes indices[indptr[i]:indptr[i+1]] (sorted) of
    classes (their names, for messages)."""

    indptr: np.ndarray
    indices: np.ndarray
    classes: list

    @classmethod
    def single(cls, labels: np.ndarray, classes: list) -> "Members":
        """One class a row."""
        return cls(np.arange(len(labels) + 1, dtype=np.int64), np.asarray(labels, dtype=np.int64), classes)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def is_single(self) -> bool:
        return bool(np.all(np.diff(self.indptr) == 1))


def draw_partners(kind: str, members: Members, rng: np.random.Generator, count: int, names: list[str]) -> np.ndarray:
    """(rows, count) partners of every input row, by `kind` (cross-class or balanced); names: the
    rows' images, for messages. Raises PairingError when a row can have none."""
    n = len(members)
    if kind == "cross-class":
        if members.is_single:
            return _cross_single(members, rng, count)
        return _rejected(members, rng, count, names, lambda r: rng.integers(0, n, len(r)), _disjoint)
    if kind == "balanced":
        return _balanced(members, rng, count, names)
    raise ValueError(f"unknown pairing {kind!r}")


def _cross_single(members: Members, rng: np.random.Generator, count: int) -> np.ndarray:
    """One class a row: uniform over the rows of the other classes, in closed form (the rows in
    class order; the row's own class is a block that the draw steps over)."""
    labels, n = members.indices, len(members)
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    own_start, own_size = starts[labels], sizes[labels]
    others = n - own_size
    if not others.all():
        raise PairingError(f"--pairing cross-class needs two classes or more; every image is of class {members.classes[labels[0]]!r}")
    k = np.floor(rng.random((count, n)) * others).astype(np.int64)  # a column at a time: see draw's order
    k = np.where(k >= own_start, k + own_size, k)
    return order[k].T.copy()


def _balanced(members: Members, rng: np.random.Generator, count: int, names: list[str]) -> np.ndarray:
    """A class uniform over the classes that have images, then an image uniform among its rows;
    a draw of the row itself is drawn again."""
    by_class = np.argsort(members.indices, kind="stable")
    rows_of = np.repeat(np.arange(len(members)), np.diff(members.indptr))[by_class]  # rows, class by class
    sizes = np.bincount(members.indices, minlength=members.num_classes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    present = np.flatnonzero(sizes)

    def propose(r: np.ndarray) -> np.ndarray:
        c = present[rng.integers(0, len(present), len(r))]
        return rows_of[starts[c] + np.floor(rng.random(len(r)) * sizes[c]).astype(np.int64)]

    return _rejected(members, rng, count, names, propose, lambda m, r, p: np.ones(len(r), bool))


def _rejected(members: Members, rng, count: int, names: list[str], propose, fits) -> np.ndarray:
    """Partners by rejection: propose(rows) draws one for each row, fits(members, rows, partners)
    says which may stand (the row itself never does); rows still open after ROUNDS rounds take one
    uniform over their fitting candidates, listed."""
    n = len(members)
    out = np.empty((count, n), dtype=np.int64)
    for col in range(count):
        todo = np.arange(n)
        for _ in range(ROUNDS):
            if not len(todo):
                break
            p = propose(todo)
            ok = (p != todo) & fits(members, todo, p)
            out[col, todo[ok]] = p[ok]
            todo = todo[~ok]
        for i in todo.tolist():  # rare: rows whose candidates are few; listed one row at a time
            candidates = _candidates(members, i, fits, propose)
            if not len(candidates):
                raise PairingError(f"no partner for {names[i]}: every other image shares a class with it")
            out[col, i] = candidates[rng.integers(0, len(candidates))]
    return out.T.copy()


def _candidates(members: Members, i: int, fits, propose) -> np.ndarray:
    """The rows that may partner row i (for balanced: any other row that has a class; the draw among
    them is then uniform, not class-balanced: only reached when rejection keeps drawing the row itself)."""
    others = np.delete(np.arange(len(members)), i)
    has_class = np.diff(members.indptr)[others] > 0
    others = others[has_class]
    return others[fits(members, np.full(len(others), i), others)]


def _disjoint(members: Members, rows: np.ndarray, partners: np.ndarray) -> np.ndarray:
    """Whether each row and its partner share no class (a row without classes shares none)."""
    ptr, idx, k = members.indptr, members.indices, members.num_classes
    pair = np.arange(len(rows))
    keys = []
    for side in (rows, partners):
        counts = ptr[side + 1] - ptr[side]
        at = np.repeat(ptr[side] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(int(counts.sum()))
        keys.append(np.repeat(pair, counts) * k + idx[at])
    both = np.sort(np.concatenate(keys))
    shared = np.unique(both[1:][both[1:] == both[:-1]] // k)
    ok = np.ones(len(rows), dtype=bool)
    ok[shared] = False
    return ok

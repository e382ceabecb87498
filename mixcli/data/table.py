"""train.csv's rows: for the output rows painted, each row's label weights, label and provenance,
as mixcli.columns orders and writes them.

Each row's label weights are kept as its nonzero (class, weight) pairs, or, with smoothing
(every class weighs), computed dense a block of rows at a time each time rows() is iterated:
a table of many rows and classes is never dense whole.
"""

import io

import numpy as np

from .. import columns
from ..operations import has_box_columns
from ..records import RowResult
from . import labels
from .dataset import Dataset

BLOCK = 512  # output rows whose label weights are dense at once


class Table:
    """The rows of train.csv for some output rows (results: their RowResults; names, masks: their
    files relative to OUT). Rows dropped by --skip-bad are left out. placed(name, label): where
    an image is filed by its label (--out-layout folders), or None; remix: a labels.Remix, whose
    label weights the table writes (weights, p_ columns) beside each row's pixel weight (lam);
    image_column: the first column's name."""

    def __init__(self, ds: Dataset, results: list[RowResult], names: list[str], masks: list[str] | None, *,
                 smoothing: float = 0.0, label_sep: str | None = None, sparse: bool = False, placed=None, remix=None, image_column: str = columns.IMAGE):
        keep = [k for k, r in enumerate(results) if not r.error]
        self.kept = keep  # positions in results of the rows written
        self._ds, self._smoothing, self._sparse = ds, smoothing, sparse
        kept = [results[k] for k in keep]
        width = max((len(r.sources) for r in results), default=1)
        self._src = np.array([r.sources + [-1] * (width - len(r.sources)) for r in kept], dtype=np.int64).reshape(len(keep), width)
        self._w = np.array([r.weights + [0.0] * (width - len(r.weights)) for r in kept], dtype=np.float64).reshape(len(keep), width)
        if remix is not None:  # label weights; lam stays the pixels' weight
            self._w = remix.weights(self._src, self._w)
        self.ops = [r.op for r in kept]
        self.labelled = ds.targets is not None  # a detection dataset's rows have objects instead
        self.soft_columns = columns.soft_columns(ds.classes, sparse) if self.labelled else []
        self.columns = columns.header(self.soft_columns if self.labelled else None, objects=ds.objects is not None, image=image_column)
        self.images = [names[k] for k in keep]
        self.masks = [masks[k] if masks and results[k].mask else "" for k in keep]
        label_w = self._w.tolist() if remix is not None else [r.weights for r in kept]
        self._rest = [self._provenance(r, w) + ([str(len(r.objects))] if ds.objects is not None else []) for r, w in zip(kept, label_w)]
        self.objects = [r.objects for r in kept]
        self.sizes = [r.size for r in kept]
        if not self.labelled:
            self.labels, self._entries = [], [[] for _ in keep]
            return
        # Each row's nonzero label weights, (class, weight) in class order: found sparsely when
        # there is no smoothing (every class then has a weight, and blocks of rows are dense).
        self._entries = None
        if smoothing == 0:
            rows, cls, val = labels.mix_sparse(ds.targets, self._src, self._w)
            bounds = np.searchsorted(rows, np.arange(len(keep) + 1)).tolist()
            cls_l, val_l = cls.tolist(), val.tolist()
            self._entries = [list(zip(cls_l[a:b], val_l[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]
            self.labels = [_label(e, ds.classes, label_sep) for e in self._entries]
        else:
            self.labels = []
            for start in range(0, len(keep), BLOCK):
                self.labels += labels.hard_labels(self._mixed(start), ds.classes, label_sep)
        if placed is not None:  # images/<label>/<name>, as the chunks wrote them
            self.images = [placed(name, label) for name, label in zip(self.images, self.labels)]

    def __len__(self) -> int:
        return len(self.kept)

    def _provenance(self, r: RowResult, weights: list[float]) -> list[str]:
        """The row's fields from op to boxes (weights: its sources' label weights)."""
        images = self._ds.images
        box = r.boxes[0] if r.boxes and has_box_columns(r.op) else None
        return [
            r.op, images[r.sources[0]], images[r.sources[1]] if len(r.sources) > 1 else "", repr(float(r.weights[0])),
            *columns.box_fields(box),
            ";".join(images[j] for j in r.sources), ";".join(repr(float(x)) for x in weights[: len(r.sources)]), columns.boxes_field(r.boxes),
        ]

    def _mixed(self, start: int) -> np.ndarray:
        end = min(start + BLOCK, len(self.kept))
        return labels.mix(self._ds.targets, self._src[start:end], self._w[start:end], self._smoothing)

    def _blocks(self):
        """Each row's nonzero (class, weight) pairs in class order, a block of rows at a time."""
        if self._entries is not None:
            yield self._entries
            return
        for start in range(0, len(self.kept), BLOCK):
            block = self._mixed(start)
            rows, cols = np.nonzero(block)
            entries: list[list] = [[] for _ in range(len(block))]
            for r, c, v in zip(rows.tolist(), cols.tolist(), block[rows, cols].tolist()):
                entries[r].append((c, v))
            yield entries

    def rows(self):
        """Each kept row's fields as strings, in column order (the label as its class: an int for integer classes)."""
        names = [str(c) for c in self._ds.classes]
        zeros = ["0.0"] * len(names)
        k = 0
        for block in self._blocks():
            for entries in block:
                if not self.labelled:
                    yield [self.images[k], *self._rest[k], self.masks[k]]
                    k += 1
                    continue
                if self._sparse:
                    fields = [columns.sparse_field(names, entries)]
                else:
                    fields = zeros.copy()
                    for c, v in entries:
                        fields[c] = repr(v)
                yield [self.images[k], self.labels[k], *fields, *self._rest[k], self.masks[k]]
                k += 1

    def csv_text(self, first: list | None = None) -> str:
        """The table as CSV (header and rows); with first, a leading column ROW of those values."""
        buf = io.StringIO()
        self.write(buf, first)
        return buf.getvalue()

    def write(self, f, first: list | None = None) -> None:
        """The CSV into text file f, a line a row; with first, a shard's part (see mixcli.columns:
        with dense label columns, each row's nonzero labels apart, the zeros left to the merge)."""
        quoted = columns.quoted
        compact = first is not None and self.labelled and not self._sparse
        lead = list(columns.COMPACT) if compact else [columns.ROW] if first is not None else []
        f.write(",".join(map(quoted, lead + self.columns)) + "\n")
        zeros = "0.0," * len(self.soft_columns)
        names = [str(c) for c in self._ds.classes]
        k = 0
        for block in self._blocks():
            for entries in block:
                head = quoted(self.images[k]) + "," + (quoted(str(self.labels[k])) + "," if self.labelled else "")
                tail = "".join("," + quoted(v) for v in self._rest[k]) + "," + quoted(self.masks[k])
                if compact:
                    f.write(columns.compact_line(first[k], head, ";".join(f"{c}:{v!r}" for c, v in entries), tail) + "\n")
                elif not self.labelled:
                    f.write(("" if first is None else f"{first[k]},") + head[:-1] + tail + "\n")
                else:
                    soft = columns.quoted(columns.sparse_field(names, entries)) if self._sparse else columns.dense_field(zeros, [(c, repr(v)) for c, v in entries])
                    f.write(("" if first is None else f"{first[k]},") + head + soft + tail + "\n")
                k += 1


def _label(entries: list, classes: list, sep: str | None):
    """hard_labels of one row from its nonzero (class, weight) pairs in class order."""
    if sep is not None:
        return sep.join(str(classes[c]) for c, v in entries if v >= 0.5)
    best, top = 0, 0.0
    for c, v in entries:
        if v > top:
            best, top = c, v
    return classes[best]


def skipped_rows(ds: Dataset, results: list[RowResult]) -> list[tuple[int, str, str]]:
    """The input rows dropped by --skip-bad, once each in input order: (row, image, why)."""
    bad: dict[int, str] = {}
    for r in results:
        if r.error:
            bad.setdefault(r.sources[0], r.error)
    return [(i, ds.images[i], bad[i]) for i in sorted(bad)]

"""The output tables: train.csv (one row per written image) and skipped.csv."""

import io

import numpy as np

from . import labels
from .dataset import SOFT_PREFIX, SPARSE_COLUMN, Dataset
from .mixing import ChunkResult
from .operations import REGISTRY
from .writer import in_folder, label_folder

ROW = "_row"  # a shard's part of train.csv: the output row first, the merge's key


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


BLOCK = 512  # output rows whose label weights are dense at once


class Table:
    """train.csv's rows for some output rows, in the column order the README documents (names,
    masks: the outputs relative to OUT, from writer.output_names; g: from gather). Rows dropped
    by --skip-bad are left out. Each row's label weights are kept as its nonzero (class, weight)
    pairs, or, with smoothing (every class weighs), computed dense a block of rows at a time
    each time rows() is iterated: a table of many rows and classes is never dense whole."""

    def __init__(self, job, ds: Dataset, names: list[str], masks: list[str] | None, g: list[tuple]):
        op, sources, weights, boxes, has_mask, error = zip(*g)
        keep = [k for k, e in enumerate(error) if not e]
        self.kept = keep  # positions in g of the rows written
        self._job, self._ds = job, ds
        width = max(len(s) for s in sources)
        self._src = np.array([sources[k] + [-1] * (width - len(sources[k])) for k in keep], dtype=np.int64).reshape(len(keep), width)
        self._w = np.array([weights[k] + [0.0] * (width - len(weights[k])) for k in keep], dtype=np.float64).reshape(len(keep), width)
        self.ops = [op[k] for k in keep]
        if job.label_format == "sparse":
            self.soft_columns = [SPARSE_COLUMN]
        else:
            self.soft_columns = [f"{SOFT_PREFIX}{c}" for c in ds.classes]
        self.columns = ["image", "label", *self.soft_columns, "op", "source_a", "source_b", "lam", "x1", "y1", "x2", "y2", "sources", "weights", "boxes", "mask"]
        self.images = [names[k] for k in keep]
        self.masks = [masks[k] if masks and has_mask[k] else "" for k in keep]
        rest = []
        for k in keep:
            o, srcs, ws, bx = op[k], sources[k], weights[k], boxes[k]
            box = bx[0] if bx and REGISTRY.get(o) is not None and REGISTRY[o].box_columns else None
            rest.append([
                o, ds.images[srcs[0]], ds.images[srcs[1]] if len(srcs) > 1 else "", repr(float(ws[0])),
                *(("", "", "", "") if box is None else (str(box[2]), str(box[0]), str(box[3]), str(box[1]))),
                ";".join(ds.images[j] for j in srcs), ";".join(repr(float(x)) for x in ws),
                ";".join(f"{x1} {y1} {x2} {y2}" for y1, y2, x1, x2 in bx),
            ])
        self._rest = rest
        # Each row's nonzero label weights, (class, weight) in class order: found sparsely when
        # there is no smoothing (every class then has a weight, and blocks of rows are dense).
        self._entries = None
        if job.label_smoothing == 0:
            rows, cls, val = labels.mix_sparse(ds.targets, self._src, self._w)
            bounds = np.searchsorted(rows, np.arange(len(keep) + 1)).tolist()
            cls_l, val_l = cls.tolist(), val.tolist()
            self._entries = [list(zip(cls_l[a:b], val_l[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]
            self.labels = [_label(e, ds.classes, job.label_sep) for e in self._entries]
        else:
            self.labels = []
            for start in range(0, len(keep), BLOCK):
                self.labels += labels.hard_labels(self._mixed(start), ds.classes, job.label_sep)
        if job.out_layout == "folders":  # images/<label>/<name>, as mixing.run_chunk wrote them
            self.images = [in_folder(name, label_folder(label)) for name, label in zip(self.images, self.labels)]

    def __len__(self) -> int:
        return len(self.kept)

    def _mixed(self, start: int) -> np.ndarray:
        end = min(start + BLOCK, len(self.kept))
        return labels.mix(self._ds.targets, self._src[start:end], self._w[start:end], self._job.label_smoothing)

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
        sparse = self._job.label_format == "sparse"
        names = [str(c) for c in self._ds.classes]
        zeros = ["0.0"] * len(names)
        k = 0
        for block in self._blocks():
            for entries in block:
                if sparse:
                    fields = [";".join(f"{names[c]}:{v!r}" for c, v in entries)]
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
        """The CSV into text file f, a line a row (the csv module's quoting, by hand: a row of a
        thousand label columns would cost the csv module as many field checks)."""
        f.write(",".join(map(_quoted, ([ROW] if first is not None else []) + self.columns)) + "\n")
        n_soft = len(self.soft_columns)
        for k, row in enumerate(self.rows()):
            head = ([str(first[k])] if first is not None else []) + [_quoted(row[0]), _quoted(str(row[1]))]
            soft = row[2 : 2 + n_soft] if n_soft > 1 else [_quoted(row[2])]
            f.write(",".join(head + soft + [_quoted(v) for v in row[2 + n_soft :]]) + "\n")


def _quoted(value: str) -> str:
    """A CSV field as csv.QUOTE_MINIMAL writes it."""
    if "," in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _label(entries: list, classes: list, sep: str | None):
    """hard_labels of one row from its nonzero (class, weight) pairs in class order."""
    if sep is not None:
        return sep.join(str(classes[c]) for c, v in entries if v >= 0.5)
    best, top = 0, 0.0
    for c, v in entries:
        if v > top:
            best, top = c, v
    return classes[best]


def skipped_rows(ds: Dataset, g: list[tuple]) -> list[tuple[int, str, str]]:
    """The input rows dropped by --skip-bad, once each in input order: (row, image, why) (g: from gather)."""
    bad = {}
    for _, sources, _, _, _, error in g:
        if error:
            bad.setdefault(sources[0], error)
    return [(i, ds.images[i], bad[i]) for i in sorted(bad)]

"""Applying the plan to one chunk: decode each image once, paint, encode, write.

A chunk is one cycle of rows: a mixed row's partners are the next rows of the cycle (wrapping
around; its c-th copy counts from the (c+1)-th next row), so each image is decoded once and, for
an operation of S sources and K copies, the first S+K-2 images are held until the chunk ends.
When the plan drew the partners (--pairing cross-class or balanced), the chunk reads those
outside it too, and holds each image until the last of its rows that uses it.
With skip_bad, a row whose image cannot be decoded is dropped and the rows before it take the
next good rows of the cycle as partners: the outcome depends only on the chunk's own files,
never on timing or --workers.
"""

import threading
import time
from typing import NamedTuple

import numpy as np

from ..data.dataset import Dataset
from ..job import Job
from ..operations import NONE, Painted
from ..operations.base import own
from ..pixels.codec import ImageError, checked, decode, encode_image, encode_mask
from ..pixels.jpeg import sniff
from ..plan import Plan
from ..records import ChunkResult, RowResult
from .annotate import Annotator, Marks


class Interrupted(Exception):
    """The run was asked to stop between two rows."""


def run_chunk(prep, chunk_id: int, stop: threading.Event) -> ChunkResult:
    """Write the outputs of one chunk of a prepared run; return what was done output by output."""
    job, out, fmt = prep.job, prep.out, prep.format
    placed = fmt.placed()
    folders: set[str] = set()  # label folders made by this chunk
    start = time.perf_counter()
    with out.store.batch() as put:  # an object store's are sent together once the chunk is painted

        def write(r: int, pixels, painted: Painted, sources: list[int], marks: Marks | None) -> None:
            source, name = prep.ds.where(sources[0]), prep.names[r]
            if placed is not None:  # images/<label>/<name>: the label follows from the weights
                name = placed(name, prep.label(sources, painted.weights))
                folder = name.rsplit("/", 1)[0]
                if folder not in folders:
                    out.store.make_folder(folder)
                    folders.add(folder)
            if isinstance(pixels, bytes):  # a pass-through already in the output format: its own bytes
                put(fmt.key(name), pixels)
            else:
                put(fmt.key(name), encode_image(pixels, job.fmt, job.quality, source))
            if painted.mask is not None:
                put(fmt.key(prep.masks[r]), encode_mask(painted.mask, source))
            if marks is not None:
                if prep.labels is not None:
                    put(fmt.key(out.label_name(name)), prep.labels(marks))
                if marks.map is not None:
                    put(fmt.key(out.label_map_name(name)), encode_mask(marks.map, source))

        res = paint_chunk(job, prep.plan, prep.ds, chunk_id, write, stop)
    res.seconds = round(time.perf_counter() - start, 4)
    return res


def paint_chunk(job: Job, plan: Plan, ds: Dataset, chunk_id: int, emit, stop: threading.Event) -> ChunkResult:
    """Paint every output of a chunk's rows (its K copies, and its original with keep_originals)
    and hand each to emit(output row, pixels, painted, source rows, marks), where pixels is an
    image (valid only during the call) or, for a pass-through whose file is already in the output
    format, that file's bytes, and marks its objects and label map (None for a dataset without).
    Return what was done output by output."""
    op = job.operation
    res = ChunkResult(chunk_id, [])
    rows = [int(i) for i in plan.chunks[chunk_id]]
    n, m, held, copies = plan.inputs, len(rows), op.sources - 1, plan.copies
    kept = held + copies - 1  # the first `kept` images are partners of the cycle's last rows
    drawn = _drawn_partners(plan, rows) if plan.pairs is not None else None
    if drawn is not None:  # partners from anywhere: the chunk reads theirs after its own
        rows, release = rows + drawn.extra, drawn.release
    raw: dict[int, bytes] = {}
    decoded: dict[int, np.ndarray] = {}
    failed: dict[int, str] = {}  # images that could not be read or decoded, and why
    scratch: dict[tuple, np.ndarray] = {}  # outputs not painted over their base, one buffer a shape

    def cached(store: dict, k: int, fn, *args):
        if k in failed:
            raise ImageError(failed[k])
        if k not in store:
            try:
                store[k] = fn(*args)
            except ImageError as e:
                failed[k] = str(e)
                raise
        return store[k]

    read = ds.root.reader([ds.images[i] for i in rows])  # an object store's: requested together, now
    where = [ds.where(i) for i in rows]  # how messages name each file
    annotator = Annotator(job, ds, rows) if ds.objects is not None or ds.maps is not None else None

    def fetch(k: int) -> bytes:
        if rows[k] in ds.invalid:  # its labels cannot be read: dropped with its image (--skip-bad)
            raise ImageError(ds.invalid[rows[k]])
        try:
            data = read(k)
        except OSError as e:  # a store's failures other than a missing object stop the run
            raise ImageError(f"cannot read {where[k]}: {e.strerror or e}") from None
        return checked(data, where[k])

    def load(k: int) -> bytes:
        return cached(raw, k, fetch, k)

    def image(k: int) -> np.ndarray:
        return cached(decoded, k, lambda: labelled(k, decode(load(k), where[k], job.size, job.interpolation)))

    def labelled(k: int, img: np.ndarray) -> np.ndarray:
        """img, once row k's label map is read too (a row whose map is bad is bad)."""
        if annotator is not None and annotator.read is not None:
            annotator.map(k, img.shape, load(k))
        return img

    def partners_of(k: int, copy: int) -> list[int] | None:
        """Copy `copy`'s partners: the next `held` rows of the cycle whose images decode (with
        skip_bad), counted from the copy+1-th next row, or the plan's drawn partners if all
        decode; None if too few decode."""
        if drawn is not None:
            found = drawn.partners[(copy, k)]
            try:
                for j in found:
                    image(j)
            except ImageError:
                if not job.skip_bad:
                    raise
                return None
            return found
        found = []
        for t in range(m - 1):
            if len(found) == held:
                break
            j = (k + 1 + (copy + t) % (m - 1)) % m
            try:
                image(j)
                found.append(j)
            except ImageError:
                if not job.skip_bad:
                    raise
        return found if len(found) == held else None

    def pass_through(k: int, r: int, decoded_only: bool) -> tuple[list[int], Painted, Marks | None]:
        same_format = not decoded_only and job.size is None and sniff(load(k)) == job.fmt
        if same_format and (job.skip_bad or annotator is not None):
            image(k)  # a row is dropped whole or kept whole: its copy must decode as its mixes must
        painted = Painted(NONE, (1.0,), placements=(own(image(k).shape),)) if annotator else Painted(NONE, (1.0,))
        marks = annotator.marks(painted, [k], [image(k).shape], image(k).shape) if annotator else None
        emit(r, load(k) if same_format else image(k), painted, [rows[k]], marks)
        return [], painted, marks

    def paint(k: int, copy: int) -> tuple[list[int], Painted, Marks | None]:
        r = copy * n + rows[k]
        partners = partners_of(k, copy) if plan.mixed[r] else None
        if partners is None:  # a row drawn to mix but left without partners is decoded all the same
            return pass_through(k, r, decoded_only=bool(plan.mixed[r]))
        a = image(k)
        row = plan.row(r)
        last_use = k in release[k] if drawn is not None else k >= kept
        if op.paints_over_base(row) and last_use and copy == copies - 1:
            out = a
        else:
            out = scratch.get(a.shape)
            if out is None:
                out = scratch[a.shape] = np.empty_like(a)
        shapes = [a.shape] + [image(j).shape for j in partners]
        painted = op.paint([a] + [image(j) for j in partners], row, out, job.interpolation)
        marks = annotator.marks(painted, [k] + partners, shapes, out.shape) if annotator is not None else None
        emit(r, out, painted, [rows[k]] + [rows[j] for j in partners], marks)
        return partners, painted, marks

    for k, i in enumerate(rows[:m]):
        if stop.is_set():
            raise Interrupted
        # The original first: the last copy may paint over the decoded image.
        outputs = ([(copies * n + i, None)] if job.keep_originals else []) + [(c * n + i, c) for c in range(copies)]
        for r, copy in outputs:
            try:
                partners, painted, marks = pass_through(k, r, False) if copy is None else paint(k, copy)
                error = ""
            except ImageError as e:  # row k's own image: with skip_bad its outputs are dropped
                if not job.skip_bad:
                    raise
                partners, painted, marks, error = [], Painted(NONE, (1.0,)), None, str(e)
            if marks is None and annotator is not None:
                marks = Marks([], 0, None, (0, 0))
            res.add(r, RowResult(
                painted.op, [i] + [rows[j] for j in partners], [float(w) for w in painted.weights],
                [[int(v) for v in box] for box in painted.boxes], painted.mask is not None, error,
                *((marks.objects, marks.dropped, list(marks.size)) if marks is not None else ()),
            ))
        if drawn is not None:
            for j in release[k]:
                decoded.pop(j, None)
                raw.pop(j, None)
        # The first `kept` good images are the last rows' partners (wrapping past bad ones): kept.
        elif k - sum(1 for j in failed if j < k) >= kept:
            decoded.pop(k, None)
            raw.pop(k, None)
    return res


class _Drawn(NamedTuple):
    """A chunk's partners drawn by the plan: partners[(copy, k)]: row k's, as positions among the
    chunk's rows followed by `extra` (the partners' input rows outside the chunk); release[k]:
    the positions whose images no row after k uses."""

    partners: dict[tuple[int, int], list[int]]
    extra: list[int]
    release: list[list[int]]


def _drawn_partners(plan: Plan, rows: list[int]) -> _Drawn:
    n = plan.inputs
    extra = sorted({int(p) for c in range(plan.copies) for i in rows for p in plan.pairs[c * n + i]} - set(rows))
    at = {i: k for k, i in enumerate(rows + extra)}
    partners = {(c, k): [at[int(p)] for p in plan.pairs[c * n + i]] for c in range(plan.copies) for k, i in enumerate(rows)}
    last = {k: k for k in range(len(rows))}
    for (_, k), found in partners.items():
        for j in found:
            last[j] = max(last.get(j, k), k)
    release: list[list[int]] = [[] for _ in rows]
    for j, k in last.items():
        release[k].append(j)
    return _Drawn(partners, extra, release)

"""Applying the plan to one chunk: decode each image once, paint, encode, write.

A chunk is one cycle of rows: a mixed row's partners are the next rows of the cycle (wrapping
around), so each image is decoded once and, for an operation of S sources, the first S-1 images
are held until the chunk ends. With skip_bad, a row whose image cannot be decoded is dropped and
the rows before it take the next good rows of the cycle as partners: the outcome depends only on
the chunk's own files, never on timing or --workers.
"""

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import Job
from .imageio import ImageError, decode, encode_image, encode_mask, read_bytes, sniff
from .operations import NONE, Record
from .plan import Plan
from .writer import write_atomic


class Interrupted(Exception):
    """The run was asked to stop between two rows."""


@dataclass(frozen=True)
class Work:
    """What every chunk needs: the job, the plan, input files and output paths (masks: None if the op has none)."""

    job: Job
    plan: Plan
    files: list[Path]
    outputs: list[Path]
    masks: list[Path] | None
    stop: threading.Event


@dataclass
class ChunkResult:
    """What applying the plan did to one chunk's rows (in plan order within the chunk)."""

    chunk: int
    rows: list[int]
    op: list[str] = field(default_factory=list)
    sources: list[list[int]] = field(default_factory=list)  # the row itself first, then its partners
    weights: list[list[float]] = field(default_factory=list)  # label weight of each source
    boxes: list[list[list[int]]] = field(default_factory=list)  # [y1, y2, x1, x2] each
    mask: list[bool] = field(default_factory=list)  # whether the row wrote a mask
    error: list[str] = field(default_factory=list)  # why a row was skipped; "" for rows written


def run_chunk(work: Work, chunk_id: int) -> ChunkResult:
    """Write the outputs of one chunk; return what was done row by row."""
    job = work.job

    def write(i: int, pixels, record: Record, sources: list[int]) -> None:
        if isinstance(pixels, bytes):  # a pass-through already in the output format: its own bytes
            write_atomic(work.outputs[i], pixels)
        else:
            write_atomic(work.outputs[i], encode_image(pixels, job.fmt, job.quality, work.files[i]))
        if record.mask is not None:
            write_atomic(work.masks[i], encode_mask(record.mask, work.files[i]))

    return paint_chunk(work, chunk_id, write)


def paint_chunk(work: Work, chunk_id: int, emit) -> ChunkResult:
    """Paint each row of a chunk and hand it to emit(row, pixels, record, source rows), where
    pixels is an image (valid only during the call) or, for a pass-through row whose file is
    already in the output format, that file's bytes. Return what was done row by row."""
    job, plan, op = work.job, work.plan, work.job.operation
    res = ChunkResult(chunk_id, [int(i) for i in plan.chunks[chunk_id]])
    rows = res.rows
    m, held = len(rows), op.sources - 1  # the first `held` images are partners of the cycle's last rows
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

    def load(k: int) -> bytes:
        return cached(raw, k, read_bytes, work.files[rows[k]])

    def image(k: int) -> np.ndarray:
        return cached(decoded, k, lambda: decode(load(k), work.files[rows[k]], job.size))

    def partners_of(k: int) -> list[int] | None:
        """The next `held` rows of the cycle whose images decode (with skip_bad), or None if too few do."""
        found = []
        for step in range(1, m):
            if len(found) == held:
                break
            j = (k + step) % m
            try:
                image(j)
                found.append(j)
            except ImageError:
                if not job.skip_bad:
                    raise
        return found if len(found) == held else None

    def paint(k: int, i: int) -> tuple[list[int], Record]:
        partners = partners_of(k) if plan.mixed[i] else None
        if partners is None:
            record = Record(NONE, (1.0,))
            same_format = not plan.mixed[i] and job.size is None and sniff(load(k)) == job.fmt
            emit(i, load(k) if same_format else image(k), record, [i])
            return [], record
        a = image(k)
        row = plan.row(i)
        if op.paints_over_base(row) and k >= held:
            out = a
        else:
            out = scratch.get(a.shape)
            if out is None:
                out = scratch[a.shape] = np.empty_like(a)
        record = op.paint([a] + [image(j) for j in partners], row, job.params, out)
        emit(i, out, record, [i] + [rows[j] for j in partners])
        return partners, record

    for k, i in enumerate(rows):
        if work.stop.is_set():
            raise Interrupted
        try:
            partners, record = paint(k, i)
            error = ""
        except ImageError as e:  # row k's own image: with skip_bad the row is dropped
            if not job.skip_bad:
                raise
            partners, record, error = [], Record(NONE, (1.0,)), str(e)
        res.op.append(record.op)
        res.sources.append([rows[k]] + [rows[j] for j in partners])
        res.weights.append([float(w) for w in record.weights])
        res.boxes.append([[int(v) for v in box] for box in record.boxes])
        res.mask.append(record.mask is not None)
        res.error.append(error)
        if k >= held:  # the first `held` images are kept: they are the last rows' partners
            decoded.pop(k, None)
            raw.pop(k, None)
    return res

"""Applying the plan to one chunk: decode each image once, paint, encode, write.

A chunk is one cycle of rows: a mixed row's partners are the next rows of the cycle (wrapping
around; its c-th copy counts from the (c+1)-th next row), so each image is decoded once and, for
an operation of S sources and K copies, the first S+K-2 images are held until the chunk ends.
With skip_bad, a row whose image cannot be decoded is dropped and the rows before it take the
next good rows of the cycle as partners: the outcome depends only on the chunk's own files,
never on timing or --workers.
"""

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .config import Job
from .imageio import ImageError, decode, encode_image, encode_mask, read_bytes, sniff
from .operations import NONE, Record
from .plan import Plan
from .store import fetch, is_remote, send
from .writer import ensure_folder, write_atomic


class Interrupted(Exception):
    """The run was asked to stop between two rows."""


@dataclass(frozen=True)
class Work:
    """What every chunk needs: the job, the plan, input files and output paths (masks: None if the op has none)."""

    job: Job
    plan: Plan
    files: Sequence[Path]
    outputs: Sequence[Path]
    masks: Sequence[Path] | None
    stop: threading.Event
    folder_of: Callable[[list[int], tuple], str] | None = None  # --out-layout folders: (sources, weights) -> folder


@dataclass
class ChunkResult:
    """What applying the plan did to one chunk's rows (in plan order within the chunk)."""

    chunk: int
    rows: list[int]  # output rows: copy c of input row i is c*N + i, the original of i (keep_originals) K*N + i
    op: list[str] = field(default_factory=list)
    sources: list[list[int]] = field(default_factory=list)  # the row itself first, then its partners
    weights: list[list[float]] = field(default_factory=list)  # label weight of each source
    boxes: list[list[list[int]]] = field(default_factory=list)  # [y1, y2, x1, x2] each
    mask: list[bool] = field(default_factory=list)  # whether the row wrote a mask
    error: list[str] = field(default_factory=list)  # why a row was skipped; "" for rows written
    seconds: float = 0.0  # wall time of run_chunk


def run_chunk(work: Work, chunk_id: int) -> ChunkResult:
    """Write the outputs of one chunk; return what was done output by output."""
    job = work.job
    outgoing: list = []  # objects for a store, sent together once the chunk is painted

    def put(path, data: bytes) -> None:
        if is_remote(path):
            outgoing.append((path, data))
        else:
            write_atomic(path, data)

    def write(r: int, pixels, record: Record, sources: list[int]) -> None:
        source, path = work.files[sources[0]], work.outputs[r]
        if work.folder_of is not None:  # images/<label>/<name>: the label follows from the weights
            path = path.parent / work.folder_of(sources, record.weights) / path.name
            ensure_folder(path.parent)
        if isinstance(pixels, bytes):  # a pass-through already in the output format: its own bytes
            put(path, pixels)
        else:
            put(path, encode_image(pixels, job.fmt, job.quality, source))
        if record.mask is not None:
            put(work.masks[r], encode_mask(record.mask, source))

    start = time.perf_counter()
    res = paint_chunk(work, chunk_id, write)
    if outgoing:
        send(outgoing)
    res.seconds = round(time.perf_counter() - start, 4)
    return res


def paint_chunk(work: Work, chunk_id: int, emit) -> ChunkResult:
    """Paint every output of a chunk's rows (its K copies, and its original with keep_originals)
    and hand each to emit(output row, pixels, record, source rows), where pixels is an image
    (valid only during the call) or, for a pass-through whose file is already in the output
    format, that file's bytes. Return what was done output by output."""
    job, plan, op = work.job, work.plan, work.job.operation
    res = ChunkResult(chunk_id, [])
    rows = [int(i) for i in plan.chunks[chunk_id]]
    n, m, held, copies = plan.inputs, len(rows), op.sources - 1, plan.copies
    kept = held + copies - 1  # the first `kept` images are partners of the cycle's last rows
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

    files = [work.files[i] for i in rows]
    fetched = dict(enumerate(fetch(files))) if files and is_remote(files[0]) else {}  # a store's: requested together

    def load(k: int) -> bytes:
        return cached(raw, k, lambda: read_bytes(files[k], fetched.pop(k, None)))

    def image(k: int) -> np.ndarray:
        return cached(decoded, k, lambda: decode(load(k), files[k], job.size))

    def partners_of(k: int, copy: int) -> list[int] | None:
        """Copy `copy`'s partners: the next `held` rows of the cycle whose images decode (with
        skip_bad), counted from the copy+1-th next row; None if too few decode."""
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

    def pass_through(k: int, r: int, decoded_only: bool) -> tuple[list[int], Record]:
        record = Record(NONE, (1.0,))
        same_format = not decoded_only and job.size is None and sniff(load(k)) == job.fmt
        if same_format and job.skip_bad:
            image(k)  # a row is dropped whole or kept whole: its copy must decode as its mixes must
        emit(r, load(k) if same_format else image(k), record, [rows[k]])
        return [], record

    def paint(k: int, copy: int) -> tuple[list[int], Record]:
        r = copy * n + rows[k]
        partners = partners_of(k, copy) if plan.mixed[r] else None
        if partners is None:  # a row drawn to mix but left without partners is decoded all the same
            return pass_through(k, r, decoded_only=bool(plan.mixed[r]))
        a = image(k)
        row = plan.row(r)
        if op.paints_over_base(row) and k >= kept and copy == copies - 1:
            out = a
        else:
            out = scratch.get(a.shape)
            if out is None:
                out = scratch[a.shape] = np.empty_like(a)
        record = op.paint([a] + [image(j) for j in partners], row, job.params, out)
        emit(r, out, record, [rows[k]] + [rows[j] for j in partners])
        return partners, record

    for k, i in enumerate(rows):
        if work.stop.is_set():
            raise Interrupted
        # The original first: the last copy may paint over the decoded image.
        outputs = ([(copies * n + i, None)] if job.keep_originals else []) + [(c * n + i, c) for c in range(copies)]
        for r, copy in outputs:
            try:
                partners, record = pass_through(k, r, False) if copy is None else paint(k, copy)
                error = ""
            except ImageError as e:  # row k's own image: with skip_bad its outputs are dropped
                if not job.skip_bad:
                    raise
                partners, record, error = [], Record(NONE, (1.0,)), str(e)
            res.rows.append(r)
            res.op.append(record.op)
            res.sources.append([i] + [rows[j] for j in partners])
            res.weights.append([float(w) for w in record.weights])
            res.boxes.append([[int(v) for v in box] for box in record.boxes])
            res.mask.append(record.mask is not None)
            res.error.append(error)
        # The first `kept` good images are the last rows' partners (wrapping past bad ones): kept.
        if k - sum(1 for j in failed if j < k) >= kept:
            decoded.pop(k, None)
            raw.pop(k, None)
    return res

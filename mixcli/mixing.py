"""Applying the plan to one chunk: decode each image once, mix, encode, write.

A chunk is one cycle of rows: row k is mixed with row k+1, the last with the first, so each
image is decoded once and at most three are held at a time. With skip_bad, a row whose image
cannot be decoded is dropped and the row before it takes the next good row of the cycle as
partner: the outcome depends only on the chunk's own files, never on timing or --workers.
"""

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import ops
from .config import Job
from .imageio import ImageError, decode, encode_image, read_bytes, resize, sniff
from .plan import OP_MIXUP, OP_NONE, Plan, box_lam, cutmix_box
from .writer import write_atomic


class Interrupted(Exception):
    """The run was asked to stop between two rows."""


@dataclass(frozen=True)
class Work:
    """What every chunk needs: the job, the plan, input files and output paths."""

    job: Job
    plan: Plan
    files: list[Path]
    outputs: list[Path]
    stop: threading.Event


@dataclass
class ChunkResult:
    """What applying the plan decided for one chunk's rows (in plan order within the chunk)."""

    chunk: int
    rows: list[int]
    op: list[int]
    partner: list[int]
    lam: list[float]
    box: list[list[int]]  # y1, y2, x1, x2; [] where there is none
    error: list[str]  # why a row was skipped; "" for rows written


def run_chunk(work: Work, chunk_id: int) -> ChunkResult:
    """Write the outputs of one chunk; return what was done row by row."""
    job, plan = work.job, work.plan
    rows = [int(i) for i in plan.chunks[chunk_id]]
    m = len(rows)
    res = ChunkResult(chunk_id, rows, [OP_NONE] * m, [-1] * m, [1.0] * m, [[] for _ in rows], [""] * m)
    raw: dict[int, bytes] = {}
    decoded: dict[int, np.ndarray] = {}
    failed: dict[int, str] = {}  # images that could not be read or decoded, and why
    scratch: dict[tuple, np.ndarray] = {}  # mixup outputs, one buffer a shape, reused row to row

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

    def partner_of(k: int) -> int | None:
        """The next row of the cycle whose image decodes (with skip_bad), or None if there is none."""
        for step in range(1, m):
            j = (k + step) % m
            try:
                image(j)
                return j
            except ImageError:
                if not job.skip_bad:
                    raise
        return None

    for k, i in enumerate(rows):
        if work.stop.is_set():
            raise Interrupted
        try:
            if plan.op[i] == OP_NONE and job.size is None and sniff(load(k)) == job.fmt:
                write_atomic(work.outputs[i], load(k))  # a pass-through in the same format: its bytes
            elif plan.op[i] == OP_NONE or (j := partner_of(k)) is None:
                write_atomic(work.outputs[i], encode_image(image(k), job.fmt, job.quality, work.files[i]))
            else:
                a = image(k)
                out = _out_buffer(plan.op[i], a, k, scratch)
                _mix(job, plan, i, a, _match(image(j), a.shape), out, res, k)
                res.op[k], res.partner[k] = int(plan.op[i]), rows[j]
                write_atomic(work.outputs[i], encode_image(out, job.fmt, job.quality, work.files[i]))
        except ImageError as e:  # row k's own image: with skip_bad the row is dropped
            if not job.skip_bad:
                raise
            res.error[k] = str(e)
        if k > 0:  # the first image is kept: it is the last row's partner
            decoded.pop(k, None)
            raw.pop(k, None)
    return res


def _mix(job: Job, plan: Plan, i: int, a: np.ndarray, b: np.ndarray, out: np.ndarray, res: ChunkResult, k: int) -> None:
    """Write the mixed image of row i (the k-th of its chunk) into out (may be a); record lam and box in res."""
    if plan.op[i] == OP_MIXUP:
        ops.blend(a, b, plan.lam[i], out)
        res.lam[k] = float(plan.lam[i])
    else:
        h, w = a.shape[:2]
        box = cutmix_box(h, w, plan.lam[i], plan.u[i], job.minmax)
        if out is not a:
            out[...] = a
        ops.paste(b, box, out)
        res.box[k] = list(box)
        res.lam[k] = box_lam(h, w, box) if job.correct_lam or job.minmax else float(plan.lam[i])


def _out_buffer(op: int, a: np.ndarray, k: int, scratch: dict) -> np.ndarray:
    """Where row k's mixed image goes. CutMix pastes into row k's own image, which is dropped
    after row k (not the first: the last row's partner). MixUp must not write over its input,
    which would stop LLVM vectorising the blend (9x slower), so it reuses a scratch buffer."""
    if op == OP_MIXUP or k == 0:
        if a.shape not in scratch:
            scratch[a.shape] = np.empty_like(a)
        return scratch[a.shape]
    return a


def _match(img: np.ndarray, shape: tuple) -> np.ndarray:
    """img resized to shape's height and width if it differs (the base image sets the size)."""
    return img if img.shape == shape else np.ascontiguousarray(resize(img, (shape[1], shape[0])))

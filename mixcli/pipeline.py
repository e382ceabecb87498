"""The run: read the dataset, draw the plan, stream chunks through worker threads, write OUT.

Each chunk of the plan is one cycle of rows (row k is mixed with row k+1, the last with the
first), so a worker decodes each of its images once and holds at most three at a time.
Decoding, the kernels and encoding all release the GIL, so threads keep every core busy.
"""

import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import labels
from .config import Job
from .dataset import SOFT_PREFIX, Dataset, load_dataset
from .errors import MixcliError
from .imageio import FORMATS, encode_image, read_image, resize
from .plan import OP_CUTMIX, OP_MIXUP, OP_NONE, OPS, Plan, box_lam, cutmix_box, make_plan
from .writer import output_names, prepare_out, write_atomic

CSV_NAME = "train.csv"
_MAGIC = {"jpg": b"\xff\xd8", "png": b"\x89PNG"}


@dataclass
class Results:
    """What applying the plan decided per row: the label weight of source_a and the box."""

    lam: np.ndarray
    box: np.ndarray  # (rows, 4) as y1, y2, x1, x2; -1 where there is none

    @classmethod
    def empty(cls, n: int) -> "Results":
        return cls(lam=np.ones(n), box=np.full((n, 4), -1, dtype=np.int64))


def run(job: Job, progress: bool = True) -> dict:
    """Do the whole job; return a summary. Raises MixcliError on bad input."""
    start = time.perf_counter()
    job.validate()
    ds = load_dataset(job.data, job.csv, job.image_dir)
    try:
        plan = make_plan(len(ds), job.plan_config())
    except ValueError as e:
        raise MixcliError(str(e)) from None
    prepare_out(job.out, [ds.root, ds.csv.parent], job.overwrite)
    names = output_names(ds.images, FORMATS[job.fmt])
    results = Results.empty(len(ds))
    _apply(job, ds, plan, names, results, progress)
    table = output_table(job, ds, plan, names, results)
    write_atomic(job.out / CSV_NAME, table.to_csv(index=False, lineterminator="\n").encode())
    counts = {op: int(np.sum(plan.op == k)) for k, op in enumerate(OPS)}
    return {
        "rows": len(ds), **counts, "out": str(job.out), "csv": str(job.out / CSV_NAME),
        "classes": len(ds.classes), "workers": job.n_workers, "seconds": round(time.perf_counter() - start, 3),
    }


def _apply(job: Job, ds: Dataset, plan: Plan, names: list[str], results: Results, progress: bool) -> None:
    """Run every chunk of the plan on a pool of job.n_workers threads, at most 2 per worker queued."""
    import cv2
    from tqdm import tqdm

    cv2.setNumThreads(1)  # the pool is the parallelism; cv2's own threads would oversubscribe
    bar = tqdm(total=len(ds), file=sys.stderr, disable=None if progress else True, unit="img", leave=False)
    chunks = iter(plan.chunks)
    with bar, ThreadPoolExecutor(job.n_workers) as pool:
        pending = set()
        try:
            while True:
                for chunk in chunks:
                    pending.add(pool.submit(_run_chunk, job, ds, plan, names, results, chunk))
                    if len(pending) >= 2 * job.n_workers:
                        break
                if not pending:
                    break
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    bar.update(future.result())
        finally:
            for future in pending:
                future.cancel()


def _run_chunk(job: Job, ds: Dataset, plan: Plan, names: list[str], results: Results, chunk: np.ndarray) -> int:
    """Write the outputs of one cycle of rows; record each row's lam and box in results."""
    from . import kernels

    m = len(chunk)
    decoded: dict[int, np.ndarray] = {}

    def image(k: int) -> np.ndarray:
        k %= m
        if k not in decoded:
            decoded[k] = read_image(ds.files[chunk[k]], job.size)
        return decoded[k]

    for k, i in enumerate(chunk):
        out_path = job.out / names[i]
        if plan.op[i] == OP_NONE and _copyable(job, ds.files[i]):
            write_atomic(out_path, ds.files[i].read_bytes())
        elif plan.op[i] == OP_NONE:
            write_atomic(out_path, encode_image(image(k), job.fmt, job.quality))
        else:
            a = image(k)
            b = _match(image(k + 1), a.shape)
            out = np.empty_like(a)
            if plan.op[i] == OP_MIXUP:
                kernels.blend(a, b, plan.lam[i], out)
                results.lam[i] = plan.lam[i]
            else:
                h, w = a.shape[:2]
                box = cutmix_box(h, w, plan.lam[i], plan.u[i], job.minmax)
                out[...] = a
                kernels.paste(b, box, out)
                results.box[i] = box
                results.lam[i] = box_lam(h, w, box) if job.correct_lam or job.minmax else plan.lam[i]
            write_atomic(out_path, encode_image(out, job.fmt, job.quality))
        if k > 0:
            decoded.pop(k, None)
    return m


def _match(img: np.ndarray, shape: tuple) -> np.ndarray:
    """img resized to shape's height and width if it differs (the base image sets the size)."""
    return img if img.shape == shape else np.ascontiguousarray(resize(img, (shape[1], shape[0])))


def _copyable(job: Job, path: Path) -> bool:
    """A pass-through row is copied byte for byte when nothing would change but the encoding."""
    if job.size is not None:
        return False
    with open(path, "rb") as f:
        return f.read(4).startswith(_MAGIC[job.fmt])


def output_table(job: Job, ds: Dataset, plan: Plan, names: list[str], results: Results):
    """The output CSV as a DataFrame, in the column order the README documents."""
    import pandas as pd

    mixed = plan.op != OP_NONE
    partner = np.where(mixed, plan.partner, -1)
    lam = np.where(mixed, results.lam, 1.0)
    targets = labels.mix(labels.smooth(ds.targets, job.label_smoothing), partner, lam)
    has_box = results.box[:, 0] >= 0
    table = {
        "image": names,
        "label": labels.hard_labels(targets, ds.classes),
        **{f"{SOFT_PREFIX}{c}": targets[:, k] for k, c in enumerate(ds.classes)},
        "op": [OPS[o] for o in plan.op],
        "source_a": ds.images,
        "source_b": [ds.images[j] if j >= 0 else "" for j in partner],
        "lam": lam,
    }
    for col, k in (("x1", 2), ("y1", 0), ("x2", 3), ("y2", 1)):
        table[col] = pd.array(np.where(has_box, results.box[:, k], 0), dtype="Int64")
        table[col][~has_box] = pd.NA
    return pd.DataFrame(table)

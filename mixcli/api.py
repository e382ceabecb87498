"""mixcli from Python: MixUp and CutMix on arrays in memory (online, e.g. in a PyTorch Dataset),
soft targets, and the whole offline run of the command line as one call.

The in-memory functions paint through the code the CLI runs (mixcli.pixels.checked and the
operations' paint helpers), so an image mixed here holds the pixels the CLI would encode. Images are uint8,
HxW or HxWxC with any C; inputs are never modified.
"""

import numbers
import os
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from .operations.base import match
from .operations.cutmix import paint_cutmix
from .operations.mixup import paint_mixup

Image = npt.NDArray[np.uint8]


class CutMixed(NamedTuple):
    """What cutmix returns: the mixed image, the label weight of a, and the box of b's pixels."""

    image: Image
    lam: float
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 as the CSV writes a box (mixcli.records.Box.xyxy)


def mixup(a: npt.ArrayLike, b: npt.ArrayLike, lam: float) -> Image:
    """MixUp of two images: lam*a + (1-lam)*b, as `mixcli mixup` computes it.

    Args:
        a: uint8 image, HxW or HxWxC (any C); it sets the output's size.
        b: uint8 image with a's number of channels; resized to a's height and width if they
            differ (as the CLI resizes a partner).
        lam: weight of a, in [0, 1].

    Returns:
        A new uint8 array of a's shape: float32(a)*lam + float32(b)*(1-lam), rounded half up.
        The label weights are (lam, 1-lam): see mix_targets.

    Raises:
        ValueError: on a wrong dtype, shape or lam.
    """
    a, b = _pair(a, b)
    out = np.empty_like(a)
    paint_mixup([a, b], _lam(lam), out)
    return out


def cutmix(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    lam: float,
    rng: np.random.Generator | int,
    minmax: tuple[float, float] | None = None,
    correct_lam: bool = True,
) -> CutMixed:
    """CutMix of two images: a box of b pasted into a, as `mixcli cutmix` paints it.

    The box's position (and, with minmax, its sides) comes from four uniforms drawn from rng.
    Without minmax its sides are sqrt(1-lam) of a's sides, its centre uniform over a's pixels,
    and it is clipped to the image.

    Args:
        a: uint8 image, HxW or HxWxC (any C); it sets the output's size.
        b: uint8 image with a's number of channels; resized to a's height and width if they differ.
        lam: the drawn weight of a, in [0, 1] (e.g. rng.beta(alpha, alpha)); unused with minmax.
        rng: a numpy.random.Generator, or an int seed for numpy.random.default_rng.
        minmax: (lo, hi) with 0 < lo <= hi <= 1: box sides uniform in [lo, hi] of a's sides,
            the box fully inside the image (instead of lam).
        correct_lam: return the share of a outside the box (True), or the drawn lam (False;
            ignored with minmax, where the share is always returned).

    Returns:
        CutMixed(image, lam, box): a new uint8 array of a's shape; the label weight of a
        (b's is 1-lam); the box (x1, y1, x2, y2), half-open: columns x1..x2-1 and rows
        y1..y2-1 hold b's pixels, as in the CSV's x1,y1,x2,y2 columns.

    Raises:
        ValueError: on a wrong dtype, shape, lam or minmax. TypeError: on a wrong rng.
    """
    a, b = _pair(a, b)
    u = _generator(rng).random(4)
    out = np.empty_like(a)
    painted = paint_cutmix([a, b], _lam(lam), u, _minmax(minmax), bool(correct_lam), out)
    return CutMixed(out, painted.weights[0], painted.boxes[0].xyxy)


def mix_targets(
    y_a: npt.ArrayLike, y_b: npt.ArrayLike, lam: float | npt.ArrayLike, num_classes: int | None = None
) -> npt.NDArray[np.floating]:
    """Soft targets of a mixed pair: lam*y_a + (1-lam)*y_b.

    Args:
        y_a, y_b: float targets of one shape: a vector of K class weights (one-hot or soft),
            or a batch of them (N x K). Integer arrays are refused unless num_classes is given.
        lam: weight of y_a in [0, 1]: one number, or one per row of a batch (shape N).
        num_classes: K, to pass class indices instead (an int, or N ints, in 0..K-1): they
            are one-hot encoded as float32 first.

    Returns:
        A new float array of the targets' shape (and floating dtype; float32 from indices).

    Raises:
        ValueError: on integer targets without num_classes, indices out of range, shapes
            that differ, or lam outside [0, 1].
    """
    if num_classes is not None:
        y_a, y_b = _one_hot(y_a, num_classes, "y_a"), _one_hot(y_b, num_classes, "y_b")
    y_a, y_b = np.asarray(y_a), np.asarray(y_b)
    for name, y in (("y_a", y_a), ("y_b", y_b)):
        if not np.issubdtype(y.dtype, np.floating):
            hint = "; for class indices pass num_classes" if np.issubdtype(y.dtype, np.integer) else ""
            raise ValueError(f"{name} must be a float array of targets, got dtype {y.dtype}{hint}")
    if y_a.shape != y_b.shape or y_a.ndim == 0:
        raise ValueError(f"y_a and y_b must be target vectors (K) or batches (N x K) of one shape, got {y_a.shape} and {y_b.shape}")
    dtype = np.result_type(y_a, y_b)
    w = np.asarray(lam, dtype=np.float64)
    if w.shape not in ((), y_a.shape[:-1]):
        raise ValueError(f"lam must be one number or one per target row (shape {y_a.shape[:-1]}), got shape {w.shape}")
    if not np.all((w >= 0) & (w <= 1)):  # also refuses NaN
        raise ValueError(f"lam must be in [0, 1], got {lam!r}")
    w = w.astype(dtype)[..., None]
    return w * y_a + (1 - w) * y_b


def load_kernels() -> None:
    """Load numba's kernels now (~0.3 s, once per process) rather than at the first mixed row.

    mixup and cutmix run through them from then on (mixup is then ~7x faster than through their
    NumPy twins, which give the same bytes). `mixcli OP` loads them itself for runs of 600 or
    more mixed rows.
    """
    from .pixels.checked import load_kernels as load

    load()


def run(op: str, data: str | os.PathLike, out: str | os.PathLike, *, progress: bool = False, **options: Any) -> dict[str, Any]:
    """Do what `mixcli OP DATA OUT [options]` does: write the mixed dataset to OUT.

    Args:
        op: a registered operation: mixup, cutmix, mix, resizemix, mosaic, fmix or cutout.
        data: the dataset folder (DATA/train.csv and the images, or a train/ folder of them),
            or an s3:// URL.
        out: the output folder, or an s3:// URL.
        progress: show the progress bar on stderr.
        **options: every option of the command, by its long name with underscores: the
            operation's own (alpha=0.2, minmax=(0.2, 0.8), correct_lam=False, ...) and those
            every operation takes (prob=0.5, label_smoothing=0.1, copies=2, size=(256, 256) or
            "256x256", fmt="png" for --format, seed=1, workers=2, csv=..., overwrite=True,
            resume=True, skip_bad=True, shards="1/3", dry_run=True, ...). Text is parsed as on
            the command line where the option is parsed from text (size, shards); numbers and
            pairs are converted to the option's type. quiet=True turns the progress bar off;
            json changes nothing (the summary is returned either way). Others take the
            command's defaults.

    Returns:
        The summary the command prints with --json: rows, rows per operation, skipped, out,
        csv, classes, workers, kernels, seconds.

    Raises:
        mixcli.errors.UsageError: an unknown operation or option, or a value of the wrong type
            or out of range (before anything is written).
        mixcli.errors.MixcliError: bad input (e.g. no CSV, missing images) or output folder.
    """
    from .job import Job, Messages
    from .options import convert, declared
    from .runner import run as run_job

    printing = {d.name: convert(d, options.pop(d.name)) for d in declared(Messages) if d.name in options}
    job = Job.make(op, data, out, **options)
    return run_job(job, progress=progress and not printing.get("quiet", False))


def _image(x: npt.ArrayLike, name: str) -> Image:
    """x as a C-contiguous uint8 image (a copy only where needed), checked."""
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise ValueError(f"{name} must be a uint8 image, got dtype {x.dtype}")
    if x.ndim not in (2, 3) or 0 in x.shape:
        raise ValueError(f"{name} must be an HxW or HxWxC image with no empty side, got shape {x.shape}")
    return np.ascontiguousarray(x)


def _pair(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[Image, Image]:
    """a and b checked, b resized to a's height and width if they differ."""
    a, b = _image(a, "a"), _image(b, "b")
    if a.shape[2:] != b.shape[2:] or a.ndim != b.ndim:
        raise ValueError(f"a and b must have the same channels, got shapes {a.shape} and {b.shape}")
    return a, match(b, a.shape)


def _lam(lam: float) -> float:
    lam = float(lam)
    if not 0.0 <= lam <= 1.0:  # also refuses NaN
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    return lam


def _generator(rng: np.random.Generator | int) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed, got {type(rng).__name__}")


def _minmax(minmax: tuple[float, float] | None) -> tuple[float, float] | None:
    if minmax is None:
        return None
    lo, hi = (float(v) for v in minmax)
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"minmax must be (lo, hi) with 0 < lo <= hi <= 1, got {tuple(minmax)}")
    return lo, hi


def _one_hot(y: npt.ArrayLike, k: int, name: str) -> npt.NDArray[np.float32]:
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer) or y.ndim > 1:
        raise ValueError(f"with num_classes, {name} must be a class index or a vector of them, got {y.dtype} of shape {y.shape}")
    if y.size and not (0 <= y.min() and y.max() < k):
        raise ValueError(f"{name} holds class indices outside 0..{k - 1}")
    return np.eye(k, dtype=np.float32)[y]

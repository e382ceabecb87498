"""Pixel kernels: the MixUp blend and the CutMix box paste, jitted with numba.

Kernels are private, write into a caller's ``out`` and hold no policy: the pipeline
decides what to mix and draws every random number before calling them. They release
the GIL, so the pipeline's worker threads run them in parallel.
"""

import numba
import numpy as np

ngjit = numba.njit(nogil=True, cache=True)

@ngjit
def _blend(a, b, lam, out):
    """out[i] = uint8(float32(a[i])*lam + float32(b[i])*(1-lam) + 0.5) on flat uint8 arrays of one length."""
    wa = np.float32(lam)
    wb = np.float32(1.0) - wa
    half = np.float32(0.5)
    for i in range(out.size):
        out[i] = np.uint8(np.float32(a[i]) * wa + np.float32(b[i]) * wb + half)


@ngjit
def _paste(b, y1, y2, x1, x2, row, px, out):
    """Copy the half-open box of b into out, flat uint8 arrays with `row` bytes a row, `px` a pixel."""
    n = (x2 - x1) * px
    for y in range(y1, y2):
        start = y * row + x1 * px
        # 0-based loops over slices let LLVM vectorise (no negative-index wraparound checks).
        dst = out[start : start + n]
        src = b[start : start + n]
        for i in range(n):
            dst[i] = src[i]


def blend(a: np.ndarray, b: np.ndarray, lam: float, out: np.ndarray) -> np.ndarray:
    """Write lam*a + (1-lam)*b, rounded half up in float32, into out (uint8 arrays of one shape)."""
    _check_same(a, b, out)
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    _blend(a.reshape(-1), b.reshape(-1), np.float32(lam), out.reshape(-1))
    return out


def paste(b: np.ndarray, box: tuple[int, int, int, int], out: np.ndarray) -> np.ndarray:
    """Copy b's pixels in the half-open box (y1, y2, x1, x2) into out (HxWxC uint8 arrays)."""
    _check_same(b, b, out)
    y1, y2, x1, x2 = (int(v) for v in box)
    if not (0 <= y1 <= y2 <= out.shape[0] and 0 <= x1 <= x2 <= out.shape[1]):
        raise ValueError(f"box {box} outside an image of shape {out.shape}")
    px = out.shape[2] if out.ndim == 3 else 1
    _paste(b.reshape(-1), y1, y2, x1, x2, out.shape[1] * px, px, out.reshape(-1))
    return out


def warm_up() -> None:
    """Load (or compile) both kernels on tiny arrays, so the first real call pays nothing."""
    import sys

    # numba's first load imports scipy.linalg, when installed, only to look for a BLAS these
    # kernels never use (0.4 s); hide it for that one load.
    hidden = "scipy.linalg.cython_blas" not in sys.modules
    if hidden:
        sys.modules["scipy.linalg.cython_blas"] = None
    try:
        img = np.zeros((2, 2, 3), np.uint8)
        blend(img, img, 0.5, img.copy())
        paste(img, (0, 1, 0, 1), img.copy())
    finally:
        if hidden:
            del sys.modules["scipy.linalg.cython_blas"]


def _check_same(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    for arr in (a, b, out):
        if arr.dtype != np.uint8 or not arr.flags.c_contiguous:
            raise ValueError("kernels take C-contiguous uint8 arrays")
    if not (a.shape == b.shape == out.shape):
        raise ValueError(f"shapes differ: {a.shape}, {b.shape}, {out.shape}")

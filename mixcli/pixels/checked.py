"""The pixel kernels, checked: blend, paste, fill and select, each running the numba kernel
(mixcli.pixels.kernels) or its NumPy twin.

Loading numba and its cached kernels takes about 0.3 s, on one thread before the workers start,
so a run loads them only when it has at least WORTH_LOADING mixed rows;
below that (or if numba cannot load) the same formulas run in NumPy. Both give identical bytes
(tests/test_kernels.py runs every kernel test on both), so the output never depends on which ran.
Boxes are half-open (y1, y2, x1, x2), as mixcli.records.Box.
"""

import os
import sys
import tempfile
import threading

import numpy as np

# Mixed rows from which numba's load repays itself: the NumPy blend costs ~0.5 ms more a
# 500x375 row. Not scaled by --workers: numba's ~100 MiB would then come and go with the core count.
WORTH_LOADING = 600

_BLOCK = 1 << 18  # elements a step of the NumPy blend: 1 MiB float32 buffers, in cache
_local = threading.local()
_kernels = None  # the mixcli.kernels module, once loaded and warm
_load_error = ""  # why numba could not be loaded, if it could not


def load_kernels():
    """Import and warm the numba kernels now; return the module."""
    global _kernels
    if _kernels is None:
        _set_cache_dir()
        # numba's first load imports scipy.linalg, when installed, only to look for a BLAS
        # these kernels never use (0.4 s); hide it for that one load.
        hidden = "scipy.linalg.cython_blas" not in sys.modules
        if hidden:
            sys.modules["scipy.linalg.cython_blas"] = None
        try:
            from . import kernels

            kernels.warm_up()
        finally:
            if hidden:
                del sys.modules["scipy.linalg.cython_blas"]
        _kernels = kernels
    return _kernels


def try_load_kernels() -> None:
    """load_kernels, leaving the NumPy twins in charge if numba cannot load."""
    global _load_error
    try:
        load_kernels()
    except Exception as e:  # e.g. no writable cache folder; the output is the same either way
        _load_error = f"{type(e).__name__}: {e}"


def active() -> str:
    """Which implementation runs now: 'numba', or 'numpy' (with why, if numba failed)."""
    if _kernels is not None:
        return "numba"
    return f"numpy ({_load_error})" if _load_error else "numpy"


def _set_cache_dir() -> None:
    """Point numba's cache at a temporary folder when neither of its own places is writable."""
    if "NUMBA_CACHE_DIR" in os.environ or os.access(os.path.dirname(__file__), os.W_OK):
        return
    user = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if os.access(user if os.path.isdir(user) else os.path.dirname(user), os.W_OK):
        return  # numba falls back to its user-wide cache there
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), f"mixcli-numba-{os.getuid()}")


def blend(a: np.ndarray, b: np.ndarray, lam: float, out: np.ndarray) -> np.ndarray:
    """Write lam*a + (1-lam)*b into out: float32, rounded half up (uint8 arrays of one shape).

    out may be a or b, but a separate out is ~9x faster: aliasing stops LLVM vectorising.
    """
    _check(a, b, out)
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    wa = np.float32(lam)
    if _kernels is not None:
        _kernels._blend(a.reshape(-1), b.reshape(-1), wa, out.reshape(-1))
    else:
        _blend_numpy(a.reshape(-1), b.reshape(-1), wa, out.reshape(-1))
    return out


def _blend_numpy(a: np.ndarray, b: np.ndarray, wa: np.float32, out: np.ndarray) -> None:
    """The blend kernel's twin: the same float32 operations, block by block through two buffers
    a thread (allocating whole float images each call made it 6x slower: page faults)."""
    fa, fb = _float_buffers()
    wb = np.float32(1.0) - wa
    for start in range(0, out.size, _BLOCK):
        stop = min(start + _BLOCK, out.size)
        x, y = fa[: stop - start], fb[: stop - start]
        np.multiply(a[start:stop], wa, out=x, dtype=np.float32)
        np.multiply(b[start:stop], wb, out=y, dtype=np.float32)
        np.add(x, y, out=x)
        np.add(x, np.float32(0.5), out=x)
        np.copyto(out[start:stop], x, casting="unsafe")  # truncates: with the +0.5, rounds half up


def _float_buffers() -> tuple[np.ndarray, np.ndarray]:
    bufs = getattr(_local, "buffers", None)
    if bufs is None:
        bufs = _local.buffers = (np.empty(_BLOCK, np.float32), np.empty(_BLOCK, np.float32))
    return bufs


def paste(src: np.ndarray, box: tuple[int, int, int, int], out: np.ndarray, origin: tuple[int, int] | None = None) -> np.ndarray:
    """Copy pixels of src into out's half-open box (y1, y2, x1, x2): from the same box of src
    (origin None), or from the box-sized block of src whose top-left corner is origin (oy, ox)."""
    y1, y2, x1, x2 = (int(v) for v in box)
    oy, ox = (y1, x1) if origin is None else (int(origin[0]), int(origin[1]))
    for arr in (src, out):
        if arr.dtype != np.uint8 or not arr.flags.c_contiguous:
            raise ValueError("kernels take C-contiguous uint8 arrays")
    if src.shape[2:] != out.shape[2:] or src.ndim != out.ndim or (origin is None and src.shape != out.shape):
        raise ValueError(f"shapes differ: {src.shape}, {out.shape}")
    if not (0 <= y1 <= y2 <= out.shape[0] and 0 <= x1 <= x2 <= out.shape[1]):
        raise ValueError(f"box {box} outside an image of shape {out.shape}")
    if not (0 <= oy and oy + y2 - y1 <= src.shape[0] and 0 <= ox and ox + x2 - x1 <= src.shape[1]):
        raise ValueError(f"a {y2 - y1}x{x2 - x1} block at {(oy, ox)} is outside the source of shape {src.shape}")
    if _kernels is not None:
        px = _pixel_bytes(out)
        _kernels._paste(src.reshape(-1), src.shape[1] * px, oy, ox, out.reshape(-1), out.shape[1] * px, y1, y2, x1, x2, px)
    else:
        out[y1:y2, x1:x2] = src[oy : oy + y2 - y1, ox : ox + x2 - x1]
    return out


def fill(out: np.ndarray, box: tuple[int, int, int, int], value: int) -> np.ndarray:
    """Set every pixel of out's half-open box (y1, y2, x1, x2) to the gray level value (0-255)."""
    _check(out, out, out)
    y1, y2, x1, x2 = (int(v) for v in box)
    if not (0 <= y1 <= y2 <= out.shape[0] and 0 <= x1 <= x2 <= out.shape[1]):
        raise ValueError(f"box {box} outside an image of shape {out.shape}")
    if not 0 <= value <= 255:
        raise ValueError(f"fill value must be in [0, 255], got {value}")
    if _kernels is not None:
        px = _pixel_bytes(out)
        _kernels._fill(out.reshape(-1), out.shape[1] * px, px, y1, y2, x1, x2, int(value))
    else:
        out[y1:y2, x1:x2] = value
    return out


def select(mask: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Copy b's pixels onto out where mask (HxW uint8 of 0s and 1s) is 1 (b and out: HxW[xC] uint8 of one shape)."""
    _check(b, b, out)
    if mask.dtype != np.uint8 or not mask.flags.c_contiguous or mask.shape != out.shape[:2]:
        raise ValueError(f"mask must be a C-contiguous uint8 array of shape {out.shape[:2]}")
    if mask.size and mask.max() > 1:
        raise ValueError("mask must hold 0s and 1s")
    if _kernels is not None:
        _kernels._select(mask.reshape(-1), b.reshape(-1), _pixel_bytes(out), out.reshape(-1))
    else:
        import cv2  # its masked copy: NumPy's boolean indexing takes 3.7 ms a 500x375 image

        cv2.copyTo(b, mask, out)
    return out


def _pixel_bytes(img: np.ndarray) -> int:
    return img.shape[2] if img.ndim == 3 else 1


def _check(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    for arr in (a, b, out):
        if arr.dtype != np.uint8 or not arr.flags.c_contiguous:
            raise ValueError("kernels take C-contiguous uint8 arrays")
    if not (a.shape == b.shape == out.shape):
        raise ValueError(f"shapes differ: {a.shape}, {b.shape}, {out.shape}")

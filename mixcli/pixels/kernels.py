"""Pixel kernels: the MixUp blend, the box paste, the box fill and the masked select, jitted with numba.

Kernels are private, write into a caller's ``out`` and hold no policy: mixcli.pixels.checked checks
the arguments, the pipeline draws every random number before calling. They release the
GIL, so the pipeline's worker threads run them in parallel.
"""

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

ngjit = numba.njit(nogil=True, cache=True)


@ngjit
def _blend(a, b, lam, out):
    """out[i] = uint8(float32(a[i])*lam + float32(b[i])*(1-lam) + 0.5) on flat uint8 arrays of one length."""
    wa = np.float32(lam)
    wb = np.float32(1.0) - wa
    half = np.float32(0.5)
    for i in range(out.size):
        out[i] = np.uint8(np.float32(a[i]) * wa + np.float32(b[i]) * wb + half)


@intrinsic
def _copy_bytes(typingctx, dst, dst_start, src, src_start, n):
    """memcpy of src[src_start:src_start+n] onto dst[dst_start:dst_start+n], flat uint8 arrays (bounds checked by the caller)."""

    def codegen(context, builder, signature, args):
        dst_arr, d_first, src_arr, s_first, count = args
        d = context.make_array(signature.args[0])(context, builder, dst_arr)
        s = context.make_array(signature.args[2])(context, builder, src_arr)
        cgutils.raw_memcpy(builder, builder.gep(d.data, [d_first]), builder.gep(s.data, [s_first]), count, 1)
        return context.get_dummy_value()

    return types.void(dst, types.intp, src, types.intp, types.intp), codegen


@ngjit
def _paste(src, src_row, sy, sx, out, row, y1, y2, x1, x2, px):
    """Copy the (y2-y1) x (x2-x1) block of src at (sy, sx) into out's half-open box, flat uint8
    arrays with `src_row` / `row` bytes a row and `px` bytes a pixel."""
    n = (x2 - x1) * px
    if n == row and n == src_row:  # full-width rows on both sides: one contiguous block
        _copy_bytes(out, y1 * row, src, sy * src_row, (y2 - y1) * row)
        return
    for y in range(y2 - y1):
        _copy_bytes(out, (y1 + y) * row + x1 * px, src, (sy + y) * src_row + sx * px, n)


@ngjit
def _fill(out, row, px, y1, y2, x1, x2, value):
    """Set every byte of out's half-open box to value, a flat uint8 array with `row` bytes a row, `px` a pixel."""
    n = (x2 - x1) * px
    v = np.uint8(value)
    for y in range(y1, y2):
        start = y * row + x1 * px
        for j in range(n):
            out[start + j] = v


@ngjit
def _select(mask, b, px, out):
    """out = b where mask is 1, out where it is 0: mask flat uint8 of 0s and 1s (one byte a pixel),
    b and out flat uint8 (px bytes a pixel). Arithmetic, not a branch, so LLVM vectorises it."""
    if px == 3:
        for p in range(mask.size):
            k, j = mask[p], 3 * p
            out[j] = out[j] + (b[j] - out[j]) * k
            out[j + 1] = out[j + 1] + (b[j + 1] - out[j + 1]) * k
            out[j + 2] = out[j + 2] + (b[j + 2] - out[j + 2]) * k
    else:
        for p in range(mask.size):
            k = mask[p]
            for j in range(p * px, (p + 1) * px):
                out[j] = out[j] + (b[j] - out[j]) * k


def warm_up() -> None:
    """Load (or compile) every kernel on tiny arrays, so the first real call pays nothing."""
    img = np.zeros(12, np.uint8)
    _blend(img, img, np.float32(0.5), img.copy())
    _paste(img, 6, 0, 0, img.copy(), 6, 0, 1, 0, 1, 3)
    _fill(img.copy(), 6, 3, 0, 1, 0, 1, 7)
    _select(np.ones(4, np.uint8), img, 3, img.copy())
    _select(np.ones(3, np.uint8), img, 4, img.copy())

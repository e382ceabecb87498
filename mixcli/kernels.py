"""Pixel kernels: the MixUp blend and the CutMix box paste, jitted with numba.

Kernels are private, write into a caller's ``out`` and hold no policy: mixcli.ops checks
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
def _copy_bytes(typingctx, dst, src, start, n):
    """memcpy of src[start:start+n] onto dst[start:start+n], flat uint8 arrays (bounds checked by the caller)."""

    def codegen(context, builder, signature, args):
        dst_arr, src_arr, first, count = args
        d = context.make_array(signature.args[0])(context, builder, dst_arr)
        s = context.make_array(signature.args[1])(context, builder, src_arr)
        cgutils.raw_memcpy(builder, builder.gep(d.data, [first]), builder.gep(s.data, [first]), count, 1)
        return context.get_dummy_value()

    return types.void(dst, src, types.intp, types.intp), codegen


@ngjit
def _paste(b, y1, y2, x1, x2, row, px, out):
    """Copy the half-open box of b into out, flat uint8 arrays with `row` bytes a row, `px` a pixel."""
    n = (x2 - x1) * px
    if n == row:  # full-width box: one contiguous block
        _copy_bytes(out, b, y1 * row, (y2 - y1) * row)
        return
    for y in range(y1, y2):
        _copy_bytes(out, b, y * row + x1 * px, n)


def warm_up() -> None:
    """Load (or compile) both kernels on tiny arrays, so the first real call pays nothing."""
    img = np.zeros(12, np.uint8)
    _blend(img, img, np.float32(0.5), img.copy())
    _paste(img, 0, 1, 0, 1, 6, 3, img.copy())

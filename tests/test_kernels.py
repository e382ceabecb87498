"""mixcli.pixels.checked (the numba kernels, and their NumPy twins used while numba loads) against
plain NumPy references: the blend, the box paste, the box fill and the masked select. Every
test runs on both paths."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from mixcli.pixels import checked as ops

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True, params=["numba", "numpy"])
def path(request, monkeypatch):
    """Run the test through the numba kernels, then through their NumPy twins."""
    monkeypatch.setattr(ops, "_kernels", ops.load_kernels() if request.param == "numba" else None)
    return request.param


def ref_blend(a: np.ndarray, b: np.ndarray, lam: float) -> np.ndarray:
    """The documented float32 blend, rounded half up, in whole-array NumPy."""
    wa = np.float32(lam)
    wb = np.float32(1) - wa
    return (a.astype(np.float32) * wa + b.astype(np.float32) * wb + np.float32(0.5)).astype(np.uint8)


def ref_paste(a: np.ndarray, b: np.ndarray, box) -> np.ndarray:
    y1, y2, x1, x2 = box
    out = a.copy()
    out[y1:y2, x1:x2] = b[y1:y2, x1:x2]
    return out


def _images(seed: int, shape) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, shape, dtype=np.uint8), rng.integers(0, 256, shape, dtype=np.uint8)


# Shapes: 1x1, one row, one column, odd and even sizes; HxWxC with C in 1, 3, 4, or plain HxW.
sides = st.integers(1, 23)
shapes = st.one_of(
    st.tuples(sides, sides, st.sampled_from([1, 3, 4])),
    st.tuples(sides, sides),
    st.sampled_from([(1, 1, 3), (1, 1), (1, 17, 3), (19, 1, 3), (1, 9), (7, 1)]),
)
lams = st.one_of(st.sampled_from([0.0, 1.0, 0.5, 0.25, 1e-9, 1 - 1e-9]), st.floats(0.0, 1.0))


@st.composite
def boxes(draw, h: int, w: int):
    """Half-open boxes inside an h x w image, edges included: empty, full, touching borders."""
    kind = draw(st.sampled_from(["any", "full", "empty_y", "empty_x", "border"]))
    if kind == "full":
        return 0, h, 0, w
    y1, y2 = sorted(draw(st.tuples(st.integers(0, h), st.integers(0, h))))
    x1, x2 = sorted(draw(st.tuples(st.integers(0, w), st.integers(0, w))))
    if kind == "empty_y":
        y2 = y1
    elif kind == "empty_x":
        x2 = x1
    elif kind == "border":
        y1, x2 = 0, w  # top and right edges
        if draw(st.booleans()):
            y2, x1 = h, 0  # and bottom and left
    return y1, y2, x1, x2


# ---------------------------------------------------------------- blend


@SETTINGS
@given(shape=shapes, lam=lams, seed=st.integers(0, 2**32 - 1))
@example(shape=(1, 1, 3), lam=0.5, seed=0)
@example(shape=(1, 1), lam=0.0, seed=1)
@example(shape=(3, 1, 1), lam=1.0, seed=2)
def test_blend_matches_numpy_reference_exactly(shape, lam, seed):
    a, b = _images(seed, shape)
    a0, b0 = a.copy(), b.copy()
    out = np.full(shape, 7, dtype=np.uint8)
    ret = ops.blend(a, b, lam, out)
    assert ret is out
    np.testing.assert_array_equal(out, ref_blend(a, b, lam))
    # Within one grey level of the exact float64 blend.
    exact = lam * a.astype(np.float64) + (1 - lam) * b.astype(np.float64)
    assert np.abs(out.astype(np.float64) - exact).max() <= 1.0
    # Inputs untouched.
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_blend_lam_endpoints_give_the_inputs_exactly(shape, seed):
    a, b = _images(seed, shape)
    out = np.empty_like(a)
    np.testing.assert_array_equal(ops.blend(a, b, 1.0, out), a)
    np.testing.assert_array_equal(ops.blend(a, b, 0.0, out), b)


def test_blend_all_byte_pairs_at_half():
    # Every (a, b) pair: lam 0.5 rounds x.5 up, and extreme values never wrap around.
    a, b = np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8), indexing="ij")
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    for lam in (0.5, 0.3, 0.7, 0.999, 0.001):
        out = ops.blend(a, b, lam, np.empty_like(a))
        np.testing.assert_array_equal(out, ref_blend(a, b, lam))
    out = ops.blend(a, b, 0.5, np.empty_like(a))
    expected = (a.astype(np.int64) + b.astype(np.int64) + 1) // 2  # (a+b)/2 rounded half up
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("shape", [(375, 500, 3), (512, 512), (512, 1024), (1, ops._BLOCK + 1)])
def test_blend_of_images_larger_than_a_block(shape):
    # The NumPy twin works block by block: partial last block, exact multiples, one past a block.
    a, b = _images(4, shape)
    for lam in (0.2, 0.61803):
        expected = ref_blend(a, b, lam)
        np.testing.assert_array_equal(ops.blend(a, b, lam, np.empty_like(a)), expected)
        over = b.copy()
        np.testing.assert_array_equal(ops.blend(a, over, lam, over), expected)


def test_blend_can_write_over_an_input():
    # out may alias a: each element is read before it is written.
    a, b = _images(3, (5, 7, 3))
    expected = ref_blend(a, b, 0.3)
    ops.blend(a, b, 0.3, a)
    np.testing.assert_array_equal(a, expected)


@pytest.mark.parametrize("lam", [-0.01, 1.01, float("nan"), float("inf")])
def test_blend_rejects_lam_outside_unit_interval(lam):
    a, b = _images(0, (2, 2, 3))
    with pytest.raises(ValueError):
        ops.blend(a, b, lam, np.empty_like(a))


@pytest.mark.parametrize(
    "shapes_",
    [((2, 3, 3), (3, 2, 3), (2, 3, 3)), ((2, 3, 3), (2, 3, 3), (2, 3, 1)), ((2, 3, 3), (2, 3, 3), (2, 3))],
)
def test_blend_rejects_mismatched_shapes(shapes_):
    a, b, out = (np.zeros(s, dtype=np.uint8) for s in shapes_)
    with pytest.raises(ValueError, match="shape"):
        ops.blend(a, b, 0.5, out)


@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.uint16, np.int8])
def test_blend_rejects_non_uint8(which, dtype):
    arrs = [np.zeros((2, 3, 3), dtype=np.uint8) for _ in range(3)]
    arrs[which] = arrs[which].astype(dtype)
    with pytest.raises(ValueError, match="uint8"):
        ops.blend(arrs[0], arrs[1], 0.5, arrs[2])


def test_blend_rejects_non_contiguous():
    a, b = _images(0, (4, 6, 3))
    with pytest.raises(ValueError):
        ops.blend(a[:, ::2], b[:, ::2], 0.5, np.empty((4, 3, 3), dtype=np.uint8))


# ---------------------------------------------------------------- paste


@SETTINGS
@given(data=st.data(), shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_paste_matches_slice_assignment(data, shape, seed):
    a, b = _images(seed, shape)
    box = data.draw(boxes(shape[0], shape[1]), label="box")
    b0 = b.copy()
    out = a.copy()
    ret = ops.paste(b, box, out)
    assert ret is out
    np.testing.assert_array_equal(out, ref_paste(a, b, box))
    np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1), (1, 13, 3), (11, 1, 3), (9, 15, 3), (16, 16, 1)])
def test_paste_edge_boxes(shape):
    a, b = _images(5, shape)
    h, w = shape[:2]
    cases = [
        (0, h, 0, w),  # full image
        (0, 0, 0, w),  # empty rows
        (h, h, 0, w),
        (0, h, w, w),  # empty columns
        (0, h, 0, 0),
        (h - 1, h, w - 1, w),  # bottom-right pixel
        (0, 1, 0, 1),  # top-left pixel
        (0, h, w - 1, w),  # last column
        (h - 1, h, 0, w),  # last row
    ]
    for box in cases:
        out = ops.paste(b, box, a.copy())
        np.testing.assert_array_equal(out, ref_paste(a, b, box), err_msg=str(box))
    np.testing.assert_array_equal(ops.paste(b, (0, h, 0, w), a.copy()), b)
    np.testing.assert_array_equal(ops.paste(b, (0, 0, 0, 0), a.copy()), a)


def test_paste_interior_box_leaves_rest_untouched():
    # Rows are H, columns W: a 2x3 box in a 4x6 image changes exactly rows 1..2, cols 2..4.
    a = np.zeros((4, 6, 3), dtype=np.uint8)
    b = np.full((4, 6, 3), 200, dtype=np.uint8)
    out = ops.paste(b, (1, 3, 2, 5), a.copy())
    changed = (out != 0).all(axis=2)
    expected = np.zeros((4, 6), dtype=bool)
    expected[1:3, 2:5] = True
    np.testing.assert_array_equal(changed, expected)


@pytest.mark.parametrize(
    "box",
    [
        (-1, 2, 0, 2),  # above the top
        (0, 2, -1, 2),  # left of the left edge
        (0, 5, 0, 2),  # below the bottom (h=4)
        (0, 2, 0, 7),  # right of the right edge (w=6)
        (3, 2, 0, 2),  # y1 > y2
        (0, 2, 3, 2),  # x1 > x2
        (5, 5, 0, 2),  # empty but outside
        (0, 2, 7, 7),
    ],
)
def test_paste_rejects_boxes_outside_the_image(box):
    a, b = _images(0, (4, 6, 3))
    out = a.copy()
    with pytest.raises(ValueError, match="outside"):
        ops.paste(b, box, out)
    np.testing.assert_array_equal(out, a)


def test_paste_rejects_mismatched_shapes_and_dtypes():
    a = np.zeros((4, 6, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="shape"):
        ops.paste(np.zeros((6, 4, 3), dtype=np.uint8), (0, 1, 0, 1), a)
    with pytest.raises(ValueError, match="shape"):
        ops.paste(np.zeros((4, 6, 1), dtype=np.uint8), (0, 1, 0, 1), a)
    with pytest.raises(ValueError, match="uint8"):
        ops.paste(np.zeros((4, 6, 3), dtype=np.float32), (0, 1, 0, 1), a)
    with pytest.raises(ValueError, match="uint8"):
        ops.paste(np.zeros((4, 6, 3), dtype=np.uint8), (0, 1, 0, 1), a.astype(np.int16))


@SETTINGS
@given(data=st.data(), shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_paste_from_an_origin_matches_slice_assignment(data, shape, seed):
    # ResizeMix and Mosaic paste a whole resized source (a block of another size) into a box.
    a, _ = _images(seed, shape)
    y1, y2, x1, x2 = data.draw(boxes(shape[0], shape[1]), label="box")
    bh, bw = y2 - y1 + data.draw(st.integers(0, 3)), x2 - x1 + data.draw(st.integers(0, 3))
    src = np.random.default_rng(seed + 1).integers(0, 256, (bh, bw) + shape[2:], dtype=np.uint8)
    oy, ox = data.draw(st.integers(0, bh - (y2 - y1))), data.draw(st.integers(0, bw - (x2 - x1)))
    src0 = src.copy()
    out = ops.paste(src, (y1, y2, x1, x2), a.copy(), origin=(oy, ox))
    want = a.copy()
    want[y1:y2, x1:x2] = src[oy : oy + y2 - y1, ox : ox + x2 - x1]
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(src, src0)


def test_paste_from_an_origin_rejects_a_block_outside_the_source():
    a = np.zeros((6, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="outside the source"):
        ops.paste(np.zeros((2, 3, 3), np.uint8), (0, 3, 0, 3), a, origin=(0, 0))
    with pytest.raises(ValueError, match="outside the source"):
        ops.paste(np.zeros((3, 3, 3), np.uint8), (0, 3, 0, 3), a, origin=(0, 1))
    with pytest.raises(ValueError, match="shape"):
        ops.paste(np.zeros((3, 3, 1), np.uint8), (0, 3, 0, 3), a, origin=(0, 0))


# ---------------------------------------------------------------- fill


@SETTINGS
@given(data=st.data(), shape=shapes, seed=st.integers(0, 2**32 - 1), value=st.integers(0, 255))
def test_fill_matches_slice_assignment(data, shape, seed, value):
    a, _ = _images(seed, shape)
    box = data.draw(boxes(shape[0], shape[1]), label="box")
    y1, y2, x1, x2 = box
    out = a.copy()
    assert ops.fill(out, box, value) is out
    want = a.copy()
    want[y1:y2, x1:x2] = value
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("box, value", [((0, 5, 0, 2), 0), ((0, 2, 0, 7), 0), ((0, 1, 0, 1), 256), ((0, 1, 0, 1), -1)])
def test_fill_rejects_boxes_outside_and_values_outside_a_byte(box, value):
    a, _ = _images(0, (4, 6, 3))
    out = a.copy()
    with pytest.raises(ValueError):
        ops.fill(out, box, value)
    np.testing.assert_array_equal(out, a)


# ---------------------------------------------------------------- select


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), share=st.sampled_from([0.0, 0.3, 1.0]))
def test_select_takes_b_where_the_mask_is_set(shape, seed, share):
    a, b = _images(seed, shape)
    mask = (np.random.default_rng(seed).random(shape[:2]) < share).astype(np.uint8)
    b0, m0 = b.copy(), mask.copy()
    out = a.copy()
    assert ops.select(mask, b, out) is out
    where = mask.astype(bool)
    want = a.copy()
    want[where] = b[where]
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(b, b0)
    np.testing.assert_array_equal(mask, m0)


def test_select_rejects_a_mask_of_another_shape_or_type():
    a, b = _images(0, (4, 6, 3))
    with pytest.raises(ValueError, match="mask"):
        ops.select(np.zeros((6, 4), np.uint8), b, a.copy())
    with pytest.raises(ValueError, match="mask"):
        ops.select(np.zeros((4, 6), bool), b, a.copy())
    with pytest.raises(ValueError, match="shape"):
        ops.select(np.zeros((4, 6), np.uint8), b[:, :3].copy(), a.copy())
    with pytest.raises(ValueError, match="0s and 1s"):
        ops.select(np.full((4, 6), 255, np.uint8), b, a.copy())


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), lam=lams)
def test_cutmix_then_blend_compose(shape, seed, lam):
    # The kernels only touch out: running both on one buffer matches the references in turn.
    a, b = _images(seed, shape)
    h, w = shape[:2]
    box = (h // 3, h - h // 3, w // 4, w - w // 4)
    assume(box[0] <= box[1] and box[2] <= box[3])
    out = a.copy()
    ops.paste(b, box, out)
    ops.blend(out.copy(), b, lam, out)
    np.testing.assert_array_equal(out, ref_blend(ref_paste(a, b, box), b, lam))


def test_cache_dir_falls_back_to_a_temporary_folder_when_nothing_is_writable(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(ops.os, "access", lambda path, mode: False)
    ops._set_cache_dir()
    assert ops.os.environ["NUMBA_CACHE_DIR"].startswith(str(__import__("tempfile").gettempdir()))
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setattr(ops.os, "access", lambda path, mode: True)
    ops._set_cache_dir()
    assert "NUMBA_CACHE_DIR" not in ops.os.environ

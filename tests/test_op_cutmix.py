"""mixcli cutmix: a box of the partner pasted into the row's image, the label weight its area's
complement (or the drawn lam). Every output re-derived by the reference (tests/reference.py), and
the boxes' sides and places on non-square images."""

import numpy as np
import pytest

from conftest import load, run_op, write_dataset
from reference import BOX, decoded_pair, options_reach_the_operation, run_and_verify

CASES = {  # name: (options, --size, --prob, --label-smoothing)
    "defaults": ({}, None, 0.8, 0.0),
    "alpha 2, drawn lam, size, smoothing": ({"alpha": 2.0, "correct_lam": False}, (19, 14), 1.0, 0.1),
    "minmax": ({"minmax": (0.2, 0.6)}, None, 1.0, 0.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_are_re_derived_from_the_csv_and_the_sources(data20, tmp_path, case):
    params, size, prob, eps = CASES[case]
    run_and_verify(data20, tmp_path / "out", "cutmix", params, size, prob, eps)


@pytest.mark.parametrize("flags, params", [
    (["--alpha", "0.5", "--no-correct-lam"], {"alpha": 0.5, "correct_lam": False}),
    (["--minmax", "0.3", "0.5"], {"minmax": (0.3, 0.5)}),
])
def test_command_line_options_reach_the_operation(data20, tmp_path, flags, params):
    options_reach_the_operation(data20, tmp_path / "out", "cutmix", flags, params)


def test_pixels_come_from_b_inside_the_box_and_a_outside(small_data, tmp_path):
    out = tmp_path / "out"
    df = run_op("cutmix", small_data, out, fmt="png", seed=5)
    assert (df.op == "cutmix").all()
    pasted = 0
    for row in df.itertuples():
        a, b = decoded_pair(small_data, row)
        got = load(out / row.image)
        h, w = a.shape[:2]
        x1, y1, x2, y2 = (int(getattr(row, c)) for c in BOX)
        assert 0 <= y1 <= y2 <= h and 0 <= x1 <= x2 <= w
        inside = np.zeros((h, w), bool)
        inside[y1:y2, x1:x2] = True
        np.testing.assert_array_equal(got[inside], b[inside])
        np.testing.assert_array_equal(got[~inside], a[~inside])
        assert row.lam == 1 - (y2 - y1) * (x2 - x1) / (h * w)
        pasted += inside.any()
    assert pasted > len(df) // 2


def test_without_correction_the_drawn_lam_is_kept(small_data, tmp_path):
    corrected = run_op("cutmix", small_data, tmp_path / "a", fmt="png", seed=1)
    drawn = run_op("cutmix", small_data, tmp_path / "b", fmt="png", seed=1, correct_lam=False)
    assert (corrected[BOX] == drawn[BOX]).all().all()
    area = [1 - (r.y2 - r.y1) * (r.x2 - r.x1) / (load(tmp_path / "b" / r.image).size / 3) for r in drawn.itertuples()]
    assert not np.allclose(drawn.lam, area)
    np.testing.assert_allclose(corrected.lam, area)


def test_minmax_boxes_have_sides_in_range_and_lie_inside(tmp_path):
    data = write_dataset(tmp_path / "d", [(40, 100)] * 6, [0, 1, 2] * 2)
    df = run_op("cutmix", data, tmp_path / "o", minmax=(0.25, 0.5), seed=2, fmt="png")
    hs, ws = df.y2 - df.y1, df.x2 - df.x1
    assert hs.between(10, 20).all() and ws.between(25, 50).all()
    assert (df.y2 <= 40).all() and (df.x2 <= 100).all() and (df.x1 >= 0).all()
    np.testing.assert_allclose(df.lam, 1 - hs * ws / 4000)


def test_box_sides_follow_rows_and_columns_on_non_square_images(tmp_path):
    h, w = 40, 100
    data = write_dataset(tmp_path / "d", [(h, w)] * 8, [0, 1] * 4)
    df = run_op("cutmix", data, tmp_path / "o", correct_lam=False, seed=6, fmt="png")
    inner = 0
    for row in df.itertuples():
        r = np.sqrt(1 - row.lam)
        cut_h, cut_w = int(h * r), int(w * r)
        assert row.y2 - row.y1 <= cut_h and row.x2 - row.x1 <= cut_w
        if 0 < row.y1 and row.y2 < h:
            assert row.y2 - row.y1 == 2 * (cut_h // 2)
            inner += 1
        if 0 < row.x1 and row.x2 < w:
            assert row.x2 - row.x1 == 2 * (cut_w // 2)
            inner += 1
    assert inner > 0

"""mixcli cutout: square holes of side hole_size * min(H, W), centre uniform, filled with --fill;
labels unchanged. Every output re-derived by the reference (tests/reference.py), the options
reaching the operation, the holes' distribution and exact sides."""

import numpy as np
import pytest
from scipy import stats

from conftest import many_rows, run_op
from mixcli.pixels.codec import read_image
from reference import hole_centre, options_reach_the_operation, parse_boxes, run_and_verify, verify

CASES = {  # name: (options, --size, --prob, --label-smoothing)
    "defaults": ({}, None, 0.8, 0.0),
    "4 holes of 0.3 filled 200, size, smoothing": ({"holes": 4, "hole_size": 0.3, "fill": 200}, (23, 17), 1.0, 0.1),
    "2 holes of the whole side": ({"holes": 2, "hole_size": 1.0, "fill": 255}, None, 1.0, 0.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_are_re_derived_from_the_csv_and_the_sources(data20, tmp_path, case):
    params, size, prob, eps = CASES[case]
    run_and_verify(data20, tmp_path / "out", "cutout", params, size, prob, eps)


def test_command_line_options_reach_the_operation(data20, tmp_path):
    options_reach_the_operation(data20, tmp_path / "out", "cutout", ["--holes", "3", "--hole-size", "0.25", "--fill", "128"], {"holes": 3, "hole_size": 0.25, "fill": 128})


def test_size_zero_changes_no_pixel_but_lists_every_hole(data20, tmp_path):
    out = tmp_path / "out"
    df = run_op("cutout", data20, out, holes=3, hole_size=0.0, fill=255, fmt="png")
    verify(data20, out, "cutout", {"holes": 3, "hole_size": 0.0, "fill": 255})
    for r in df.itertuples():
        boxes = parse_boxes(r.boxes)
        assert len(boxes) == 3 and all(x1 == x2 and y1 == y2 for x1, y1, x2, y2 in boxes)
        np.testing.assert_array_equal(read_image(out / r.image), read_image(data20 / "train" / r.source_a))


def test_hole_centres_are_uniform_and_sides_exact(tmp_path):
    h, w, n, holes = 7, 10, 600, 3
    data = many_rows(tmp_path / "d", (h, w), n)
    out = tmp_path / "o"
    df = run_op("cutout", data, out, holes=holes, hole_size=0.5, fill=9, seed=12, fmt="png")
    verify(data, out, "cutout", {"holes": holes, "hole_size": 0.5, "fill": 9}, seed=12, rows=set(range(0, n, 23)))
    s = int(0.5 * min(h, w))
    cys, cxs, inner = [], [], 0
    for b in df.boxes:
        boxes = parse_boxes(b)
        assert len(boxes) == holes
        for x1, y1, x2, y2 in boxes:
            cys.append(hole_centre(y1, y2, h, s))
            cxs.append(hole_centre(x1, x2, w, s))
            if 0 < y1 and y2 < h:
                assert y2 - y1 == s
                inner += 1
            if 0 < x1 and x2 < w:
                assert x2 - x1 == s
    assert inner > n
    for values, size in ((np.array(cys), h), (np.array(cxs), w)):
        counts = np.bincount(values, minlength=size)
        assert len(counts) == size and (counts > 0).all()  # both ends reached, nothing outside
        assert stats.chisquare(counts).pvalue > 1e-3, counts

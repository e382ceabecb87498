"""mixcli mosaic: four images around a random centre, each resized into its quadrant. Every output
re-derived by the reference (tests/reference.py), the options reaching the operation, the
centre's distribution, and the edge cases: a centre at a corner, too few good partners, too few rows."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import assert_one_line_error, invoke, invoke_ok, many_rows, run_op, write_dataset
from mixcli.pixels.codec import read_image
from reference import options_reach_the_operation, parse_boxes, plan_of, ref_resize, run_and_verify, verify

CASES = {  # name: (options, --size, --prob, --label-smoothing)
    "defaults": ({}, None, 0.8, 0.0),
    "offset 0.1..0.9, size, smoothing": ({"offset": (0.1, 0.9)}, (23, 17), 1.0, 0.1),
    "offset 0..1": ({"offset": (0.0, 1.0)}, None, 1.0, 0.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_are_re_derived_from_the_csv_and_the_sources(data20, tmp_path, case):
    params, size, prob, eps = CASES[case]
    run_and_verify(data20, tmp_path / "out", "mosaic", params, size, prob, eps)


def test_command_line_options_reach_the_operation(data20, tmp_path):
    options_reach_the_operation(data20, tmp_path / "out", "mosaic", ["--offset", "0.4", "0.6"], {"offset": (0.4, 0.6)})


def test_centre_at_the_corners_leaves_three_quadrants_empty(tmp_path):
    data = write_dataset(tmp_path / "d", [(10, 14), (6, 9), (12, 7), (9, 11)], [0, 1, 2, 0])
    for offset in ((0.0, 0.0), (1.0, 1.0)):
        out = tmp_path / f"o{offset[0]}"
        df = run_op("mosaic", data, out, offset=offset, fmt="png")
        verify(data, out, "mosaic", {"offset": offset})
        for r in df.itertuples():
            sources = r.sources.split(";")
            assert len(sources) == 4  # always four, even with a weight of 0
            h, w = read_image(data / "train" / r.source_a).shape[:2]
            got = read_image(out / r.image)
            if offset == (0.0, 0.0):  # the whole canvas is the bottom-right source, resized
                assert r.weights == "0.0;0.0;0.0;1.0"
                assert parse_boxes(r.boxes) == [(0, 0, 0, 0), (0, 0, w, 0), (0, 0, 0, h), (0, 0, w, h)]
                np.testing.assert_array_equal(got, ref_resize(read_image(data / "train" / sources[3]), w, h))
            else:  # the whole canvas is the row's own image
                assert r.weights == "1.0;0.0;0.0;0.0" and r.lam == 1.0
                assert parse_boxes(r.boxes) == [(0, 0, w, h), (w, 0, w, h), (0, h, w, h), (w, h, w, h)]
                np.testing.assert_array_equal(got, read_image(data / "train" / r.source_a))


def test_centre_is_uniform_over_the_inclusive_range(tmp_path):
    h, w, n, offset = 9, 12, 1200, (0.2, 0.9)
    data = many_rows(tmp_path / "d", (h, w), n)
    out = tmp_path / "o"
    df = run_op("mosaic", data, out, offset=offset, seed=8, fmt="png")
    verify(data, out, "mosaic", {"offset": offset}, seed=8, rows=set(range(0, n, 37)))
    quads = [parse_boxes(b) for b in df.boxes]
    cx = np.array([q[0][2] for q in quads])
    cy = np.array([q[0][3] for q in quads])
    for values, lo, hi in ((cx, int(w * offset[0]), int(w * offset[1])), (cy, int(h * offset[0]), int(h * offset[1]))):
        assert (lo, hi) in ((2, 10), (1, 8))
        counts = np.bincount(values - lo, minlength=hi - lo + 1)
        assert values.min() == lo and values.max() == hi and len(counts) == hi - lo + 1
        assert (counts > 0).all()
        assert stats.chisquare(counts).pvalue > 1e-3, counts
    # Centres are independent of each other: cx and cy are not correlated.
    assert abs(stats.pearsonr(cx, cy).statistic) < 0.12


def test_skip_bad_passes_a_row_through_when_too_few_partners_are_good(tmp_path):
    data = write_dataset(tmp_path / "d", [(12, 16), (16, 12), (10, 10), (9, 14), (14, 9)], [0, 1, 2, 0, 1])
    bad = {"img001.png", "img003.png"}
    for name in bad:
        (data / "train" / name).write_bytes(b"text, not an image")
    out = tmp_path / "o"
    df = run_op("mosaic", data, out, fmt="png", skip_bad=True)
    assert sorted(pd.read_csv(out / "skipped.csv").image) == sorted(bad)
    assert list(df.source_a) == ["img000.png", "img002.png", "img004.png"]
    assert (df.op == "none").all() and (df.lam == 1.0).all()
    verify(data, out, "mosaic", bad=bad)


def test_needs_four_rows(tmp_path):
    data = write_dataset(tmp_path / "d", [(8, 9), (9, 8), (7, 7)], [0, 1, 0])
    assert_one_line_error(invoke("mosaic", data, tmp_path / "o"), 1, "mosaic", "at least 4 rows")
    assert not (tmp_path / "o" / "train.csv").exists()
    # Four rows are enough, and every cycle of any larger dataset has at least four.
    data4 = write_dataset(tmp_path / "d4", [(8, 9), (9, 8), (7, 7), (6, 10)], [0, 1, 0, 1])
    invoke_ok("mosaic", data4, tmp_path / "o4", "-q")
    for n in range(4, 70):
        chunks = plan_of(n, "mosaic", seed=n).chunks
        assert min(len(c) for c in chunks) >= 4 and sum(len(c) for c in chunks) == n

"""mixcli mixup: out = lam*A + (1-lam)*B, lam ~ Beta(alpha, alpha). Every output re-derived by the
reference (tests/reference.py), the pixels against the recorded lam, and the draws' distributions."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import load, many_rows, run_op
from reference import decoded_pair, options_reach_the_operation, run_and_verify

CASES = {  # name: (options, --size, --prob, --label-smoothing)
    "defaults": ({}, None, 0.8, 0.0),
    "alpha 0.4, size, smoothing": ({"alpha": 0.4}, (19, 14), 1.0, 0.1),
}


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_are_re_derived_from_the_csv_and_the_sources(data20, tmp_path, case):
    params, size, prob, eps = CASES[case]
    run_and_verify(data20, tmp_path / "out", "mixup", params, size, prob, eps)


def test_command_line_options_reach_the_operation(data20, tmp_path):
    options_reach_the_operation(data20, tmp_path / "out", "mixup", ["--alpha", "0.3"], {"alpha": 0.3})


def test_pixels_are_the_blend_of_the_recorded_sources(small_data, tmp_path):
    out = tmp_path / "out"
    df = run_op("mixup", small_data, out, fmt="png", alpha=0.4, seed=3)
    assert (df.op == "mixup").all()
    for row in df.itertuples():
        a, b = decoded_pair(small_data, row)
        got = load(out / row.image)
        assert got.shape == a.shape
        want = row.lam * a.astype(np.float64) + (1 - row.lam) * b
        assert np.abs(got - want).max() <= 1.0, row.image
        assert pd.isna(row.x1)


def test_lams_follow_beta_and_mixed_share_follows_prob(tmp_path):
    n, alpha, prob = 3000, 0.2, 0.3
    data = many_rows(tmp_path / "d", (2, 3), n, files=10)
    df = run_op("mixup", data, tmp_path / "o", alpha=alpha, prob=prob, seed=11, fmt="png")
    mixed = df[df.op == "mixup"]
    assert stats.binomtest(len(mixed), n, prob).pvalue > 0.001
    assert stats.kstest(mixed.lam, stats.beta(alpha, alpha).cdf).pvalue > 0.001
    assert stats.kstest(mixed.lam, stats.beta(1.0, 1.0).cdf).pvalue < 1e-6

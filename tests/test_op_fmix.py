"""mixcli fmix (FMix): the partner through a low-frequency Fourier mask covering exactly
round((1 - lam) * H * W) pixels, the mask written under OUT/masks. Every output re-derived by
the reference (tests/reference.py), the options reaching the operation, lam's distribution and
the masks' exact counts."""

import cv2
import numpy as np
import pytest
from scipy import stats

from conftest import many_rows, run_op, write_dataset
from reference import options_reach_the_operation, plan_of, run_and_verify, verify

CASES = {  # name: (options, --size, --prob, --label-smoothing)
    "defaults": ({}, None, 0.8, 0.0),
    "alpha, decay power, size, smoothing": ({"alpha": 0.5, "decay_power": 1.5}, (20, 14), 1.0, 0.1),
}


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_are_re_derived_from_the_csv_and_the_sources(data20, tmp_path, case):
    params, size, prob, eps = CASES[case]
    run_and_verify(data20, tmp_path / "out", "fmix", params, size, prob, eps)


def test_command_line_options_reach_the_operation(data20, tmp_path):
    options_reach_the_operation(data20, tmp_path / "out", "fmix", ["--alpha", "0.4", "--decay-power", "2"], {"alpha": 0.4, "decay_power": 2.0})


@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_drawn_lam_follows_beta(alpha):
    params = {} if alpha == 1.0 else {"alpha": alpha}
    lam = plan_of(20000, "fmix", seed=6, **params).draws["lam"]
    assert stats.kstest(lam, stats.beta(alpha, alpha).cdf).pvalue > 1e-3
    other = 3.0
    assert stats.kstest(lam, stats.beta(other, other).cdf).pvalue < 1e-6


def test_mask_count_and_lam_are_exact_and_masks_are_low_frequency(tmp_path):
    h, w, n = 40, 64, 120
    data = many_rows(tmp_path / "d", (h, w), n)
    out = tmp_path / "o"
    df = run_op("fmix", data, out, seed=10, fmt="png")
    verify(data, out, "fmix", seed=10, rows=set(range(0, n, 7)))  # pixels on a subset
    drawn = plan_of(n, "fmix", seed=10).draws["lam"]
    edges = []
    for r, lam in zip(df.itertuples(), drawn):
        mask = cv2.imread(str(out / r.mask), cv2.IMREAD_UNCHANGED) == 255
        assert int(mask.sum()) == round((1 - float(lam)) * h * w)
        assert r.lam == 1 - mask.mean()
        if 0.3 < lam < 0.7:  # a random mask differs from its neighbour half the time; FMix's rarely
            edges.append((np.mean(mask[1:] != mask[:-1]) + np.mean(mask[:, 1:] != mask[:, :-1])) / 2)
    assert len(edges) > 10 and np.mean(edges) < 0.1, edges
    assert stats.kstest(1 - df.lam, stats.beta(1, 1).cdf).pvalue > 1e-3  # recorded share ~ drawn


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("decay_power", [30.0, 400.0])
def test_large_decay_power_still_gives_the_drawn_count(tmp_path, decay_power):
    # A spectrum scaled by 1/f^P in absolute terms overflowed float32 from P ~ 28 (NaN noise, empty masks).
    data = write_dataset(tmp_path / "d", [(30, 40)] * 4, [0, 1, 2, 0])
    out = tmp_path / "o"
    df = run_op("fmix", data, out, seed=1, fmt="png", decay_power=decay_power)
    for r in df.itertuples():
        mask = cv2.imread(str(out / r.mask), cv2.IMREAD_UNCHANGED) == 255
        assert r.lam == 1 - mask.mean(), (r.lam, mask.mean())
    verify(data, out, "fmix", {"decay_power": decay_power}, seed=1)

"""mixcli resizemix (mmpretrain's ResizeMix): the whole partner shrunk by tau into a box of the
row's image. Every output re-derived by the reference (tests/reference.py), the options reaching
the operation, and tau's distribution."""

import pytest
from scipy import stats

from reference import options_reach_the_operation, plan_of, run_and_verify

CASES = {  # name: (options, --size, --prob, --label-smoothing)
    "defaults, smoothing": ({}, None, 0.75, 0.1),
    "scale 0.5..1, size": ({"scale_min": 0.5, "scale_max": 1.0}, (20, 14), 1.0, 0.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_are_re_derived_from_the_csv_and_the_sources(data20, tmp_path, case):
    params, size, prob, eps = CASES[case]
    run_and_verify(data20, tmp_path / "out", "resizemix", params, size, prob, eps)


def test_command_line_options_reach_the_operation(data20, tmp_path):
    options_reach_the_operation(data20, tmp_path / "out", "resizemix", ["--scale-min", "0.3", "--scale-max", "0.6"], {"scale_min": 0.3, "scale_max": 0.6})


@pytest.mark.parametrize("lo, hi", [(0.1, 0.8), (0.3, 0.5)])
def test_tau_is_uniform_in_its_range(lo, hi):
    params = {} if (lo, hi) == (0.1, 0.8) else {"scale_min": lo, "scale_max": hi}
    tau = plan_of(20000, "resizemix", seed=4, **params).draws["tau"]
    assert tau.min() >= lo and tau.max() <= hi
    assert stats.kstest(tau, stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3
    assert stats.kstest(tau, stats.uniform(lo, hi - lo + 0.02).cdf).pvalue < 1e-3

"""mixcli mix (timm's Mixup): per row, CutMix with probability --switch-prob, else MixUp, each with
its own alpha. Every output re-derived by the reference (tests/reference.py), the options reaching
the operation, and the distributions of what is drawn."""

import pytest
from scipy import stats

from mixcli.errors import UsageError
from mixcli.job import Job
from reference import options_reach_the_operation, plan_of, run_and_verify

CASES = {  # name: (options, --size, --prob, --label-smoothing)
    "defaults": ({}, None, 0.8, 0.0),
    "switch, alphas, drawn lam, size, smoothing": ({"switch_prob": 0.5, "mixup_alpha": 0.3, "cutmix_alpha": 2.0, "correct_lam": False}, (19, 14), 1.0, 0.1),
    "minmax": ({"minmax": (0.2, 0.6)}, None, 1.0, 0.0),
    "mixup alpha 0": ({"mixup_alpha": 0.0}, None, 1.0, 0.0),
    "cutmix alpha 0": ({"cutmix_alpha": 0.0}, None, 1.0, 0.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_are_re_derived_from_the_csv_and_the_sources(data20, tmp_path, case):
    params, size, prob, eps = CASES[case]
    run_and_verify(data20, tmp_path / "out", "mix", params, size, prob, eps)


@pytest.mark.parametrize("flags, params", [
    (["--switch-prob", "0.7", "--mixup-alpha", "0.5", "--cutmix-alpha", "2", "--no-correct-lam"],
     {"switch_prob": 0.7, "mixup_alpha": 0.5, "cutmix_alpha": 2.0, "correct_lam": False}),
    (["--minmax", "0.3", "0.5"], {"minmax": (0.3, 0.5)}),
])
def test_command_line_options_reach_the_operation(data20, tmp_path, flags, params):
    options_reach_the_operation(data20, tmp_path / "out", "mix", flags, params)


@pytest.mark.parametrize("switch, mixup_alpha, cutmix_alpha", [(0.5, 0.8, 1.0), (0.3, 0.4, 2.0)])
def test_switch_share_and_lams(switch, mixup_alpha, cutmix_alpha):
    n = 20000
    params = {} if (switch, mixup_alpha, cutmix_alpha) == (0.5, 0.8, 1.0) else {"switch_prob": switch, "mixup_alpha": mixup_alpha, "cutmix_alpha": cutmix_alpha}
    plan = plan_of(n, "mix", seed=21, **params)
    cut, lam = plan.draws["cut"], plan.draws["lam"]
    assert cut.dtype == bool and lam.shape == (n,)
    assert stats.binomtest(int(cut.sum()), n, switch).pvalue > 1e-3
    assert stats.kstest(lam[~cut], stats.beta(mixup_alpha, mixup_alpha).cdf).pvalue > 1e-3
    assert stats.kstest(lam[cut], stats.beta(cutmix_alpha, cutmix_alpha).cdf).pvalue > 1e-3
    # The tests can tell the two apart: each lam follows its own operation's alpha only.
    assert stats.kstest(lam[~cut], stats.beta(cutmix_alpha, cutmix_alpha).cdf).pvalue < 1e-6
    assert stats.kstest(lam[cut], stats.beta(mixup_alpha, mixup_alpha).cdf).pvalue < 1e-6
    if switch != 0.5:
        assert stats.binomtest(int(cut.sum()), n, 0.5).pvalue < 1e-6


def test_alpha_zero_turns_that_operation_off():
    n = 5000
    only_cut = plan_of(n, "mix", seed=2, mixup_alpha=0.0, cutmix_alpha=0.5)
    assert only_cut.draws["cut"].all()
    assert stats.kstest(only_cut.draws["lam"], stats.beta(0.5, 0.5).cdf).pvalue > 1e-3
    only_mixup = plan_of(n, "mix", seed=2, mixup_alpha=0.5, cutmix_alpha=0.0)
    assert not only_mixup.draws["cut"].any()
    assert stats.kstest(only_mixup.draws["lam"], stats.beta(0.5, 0.5).cdf).pvalue > 1e-3
    with pytest.raises(UsageError, match="both 0"):
        Job.make("mix", ".", "o", mixup_alpha=0.0, cutmix_alpha=0.0).validate()

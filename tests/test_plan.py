"""mixcli.plan: pairing cycles and mixing draws; mixcli.operations.geometry: CutMix boxes."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy import stats

from mixcli.operations import REGISTRY
from mixcli.operations.geometry import box_lam, cutmix_box
from mixcli.plan import CHUNK, make_plan

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BELOW_ONE = float(np.nextafter(1.0, 0.0))


def plan_of(n, op="mixup", prob=1.0, seed=0, **params):
    """make_plan for a registered operation, its options at their defaults unless given."""
    return make_plan(n, REGISTRY[op](**params), prob, seed)


def partner(plan):
    return plan.partners(1)[:, 0]


# ---------------------------------------------------------------- make_plan: pairing


def _check_cycles(plan, n):
    rows = np.arange(n)
    assert partner(plan).shape == (n,)
    assert partner(plan).dtype.kind == "i"
    # Chunks cover every row exactly once.
    flat = np.concatenate(plan.chunks)
    assert sorted(flat.tolist()) == rows.tolist()
    # partner is a permutation of the rows without fixed points.
    assert not (partner(plan) == rows).any()
    assert sorted(partner(plan).tolist()) == rows.tolist()
    # Each chunk is one cycle: following partner from the chunk's first row visits the
    # whole chunk, in chunk order, and returns.
    for chunk in plan.chunks:
        assert len(chunk) >= 2
        np.testing.assert_array_equal(partner(plan)[chunk], np.roll(chunk, -1))
        seen, r = [], chunk[0]
        for _ in range(len(chunk)):
            seen.append(r)
            r = partner(plan)[r]
        assert r == chunk[0]
        assert sorted(seen) == sorted(chunk.tolist())


def _expected_chunk_sizes(n):
    sizes = [CHUNK] * (n // CHUNK) + ([n % CHUNK] if n % CHUNK else [])
    if len(sizes) > 1 and sizes[-1] == 1:
        sizes[-2:] = [sizes[-2] + 1]
    return sizes


def test_chunk_size_is_16():
    assert CHUNK == 16


@pytest.mark.parametrize("n", [2, 3, 5, 15, 16, 17, 18, 31, 32, 33, 34, 49, 100, 1000])
@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_partners_form_one_cycle_per_chunk(n, seed):
    plan = plan_of(n, "mixup", seed=seed)
    assert len(plan) == n
    _check_cycles(plan, n)
    assert [len(c) for c in plan.chunks] == _expected_chunk_sizes(n)


@SETTINGS
@given(n=st.integers(2, 200), seed=st.integers(0, 2**63), prob=st.floats(0, 1), op=st.sampled_from(["mixup", "cutmix"]))
def test_plan_invariants(n, seed, prob, op):
    plan = plan_of(n, op, prob=prob, seed=seed, alpha=0.5)
    _check_cycles(plan, n)
    assert [len(c) for c in plan.chunks] == _expected_chunk_sizes(n)
    assert plan.mixed.dtype == bool and plan.mixed.shape == (n,)
    lam = plan.draws["lam"]
    assert lam.shape == (n,) and ((lam >= 0) & (lam <= 1)).all()
    if op == "cutmix":
        u = plan.draws["u"]
        assert u.shape == (n, 4) and ((u >= 0) & (u < 1)).all()


def test_two_rows_swap():
    plan = plan_of(2, "mixup")
    assert partner(plan).tolist() == [1, 0]
    assert len(plan.chunks) == 1 and sorted(plan.chunks[0].tolist()) == [0, 1]


def test_seventeen_rows_make_one_cycle_of_17():
    # 16 + 1: the lone last row joins the chunk before instead of pairing with itself.
    plan = plan_of(17, "cutmix", seed=3)
    assert [len(c) for c in plan.chunks] == [17]
    _check_cycles(plan, 17)


def test_33_rows_make_16_and_17():
    plan = plan_of(33, "cutmix", seed=3)
    assert [len(c) for c in plan.chunks] == [16, 17]


@pytest.mark.parametrize("n", [0, 1])
@pytest.mark.parametrize("prob", [1.0, 0.5, 1e-9])
def test_fewer_than_two_rows_cannot_mix(n, prob):
    with pytest.raises(ValueError, match="2 rows"):
        plan_of(n, "mixup", prob=prob)


def test_one_row_with_prob_zero_mixes_nothing():
    plan = plan_of(1, "mixup", prob=0.0)
    assert plan.mixed.tolist() == [False]


def test_same_seed_same_plan():
    p1, p2 = (plan_of(500, "cutmix", alpha=0.4, prob=0.6, seed=77) for _ in range(2))
    np.testing.assert_array_equal(p1.mixed, p2.mixed)
    np.testing.assert_array_equal(partner(p1), partner(p2))
    for key in ("lam", "u"):
        np.testing.assert_array_equal(p1.draws[key], p2.draws[key])
    assert len(p1.chunks) == len(p2.chunks)
    for c1, c2 in zip(p1.chunks, p2.chunks):
        np.testing.assert_array_equal(c1, c2)


def test_different_seed_different_plan():
    p1 = plan_of(500, "cutmix", alpha=0.4, prob=0.6, seed=1)
    p2 = plan_of(500, "cutmix", alpha=0.4, prob=0.6, seed=2)
    assert not np.array_equal(p1.mixed, p2.mixed)
    assert not np.array_equal(partner(p1), partner(p2))
    for key in ("lam", "u"):
        assert not np.array_equal(p1.draws[key], p2.draws[key]), key


def test_pairing_does_not_depend_on_prob_or_alpha():
    # Pairs come from their own stream: changing prob or alpha keeps the partners and boxes.
    p1 = plan_of(300, "mixup", alpha=1.0, prob=1.0, seed=9)
    p2 = plan_of(300, "mixup", alpha=0.2, prob=0.3, seed=9)
    np.testing.assert_array_equal(partner(p1), partner(p2))


# ---------------------------------------------------------------- make_plan: distributions


@pytest.mark.parametrize("prob", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("seed", [0, 1])
def test_share_of_mixed_rows_matches_prob(prob, seed):
    n = 20000
    plan = plan_of(n, "mixup", prob=prob, seed=seed)
    k = int(plan.mixed.sum())
    # Fixed seeds make this deterministic; 1e-4 leaves room for an unlucky draw (seed 1 at
    # prob 0.5 gives p ~ 3e-4) while a biased draw (say prob 0.5 giving 0.52) still fails.
    assert stats.binomtest(k, n, prob).pvalue > 1e-4, k / n
    assert abs(k / n - prob) < 0.02


@pytest.mark.parametrize("prob, expected", [(0.0, False), (1.0, True)])
def test_prob_zero_and_one(prob, expected):
    plan = plan_of(1000, "cutmix", prob=prob)
    assert (plan.mixed == expected).all()


@pytest.mark.parametrize("alpha", [0.2, 1.0, 3.0])
def test_lam_follows_beta(alpha):
    plan = plan_of(4000, "mixup", alpha=alpha, seed=11)
    assert stats.kstest(plan.draws["lam"], stats.beta(alpha, alpha).cdf).pvalue > 1e-3
    # and is not some other Beta: a clearly different alpha is rejected.
    other = 1.0 if alpha != 1.0 else 0.2
    assert stats.kstest(plan.draws["lam"], stats.beta(other, other).cdf).pvalue < 1e-3


def test_u_is_uniform():
    plan = plan_of(3000, "cutmix", seed=5)
    for k in range(4):
        assert stats.kstest(plan.draws["u"][:, k], "uniform").pvalue > 1e-3


@pytest.mark.parametrize("n, seeds", [(5, 2000), (17, 1700), (20, 1900)])
def test_partner_uniform_over_other_rows(n, seeds):
    counts = np.zeros(n, dtype=np.int64)
    for s in range(seeds):
        counts[plan_of(n, "mixup", seed=s).partners(1)[0, 0]] += 1
    assert counts[0] == 0
    assert stats.chisquare(counts[1:]).pvalue > 1e-3, counts


# ---------------------------------------------------------------- cutmix_box


def ref_box(h, w, lam, u):
    """CutMix box written out from the docstring, in plain Python."""
    r = math.sqrt(1.0 - lam)
    cut_h, cut_w = int(h * r), int(w * r)
    cy = min(int(u[0] * h), h - 1)
    cx = min(int(u[1] * w), w - 1)

    def clip(v, hi):
        return max(0, min(hi, v))

    return clip(cy - cut_h // 2, h), clip(cy + cut_h // 2, h), clip(cx - cut_w // 2, w), clip(cx + cut_w // 2, w)


unit = st.floats(0.0, 1.0, exclude_max=True)
us = st.lists(unit, min_size=4, max_size=4).map(np.array)
# Sizes 1..300 with an emphasis on lopsided aspect ratios.
sizes = st.one_of(
    st.tuples(st.integers(1, 300), st.integers(1, 300)),
    st.tuples(st.integers(1, 5), st.integers(100, 300)),
    st.tuples(st.integers(100, 300), st.integers(1, 5)),
)


@SETTINGS
@given(hw=sizes, lam=st.floats(0.0, 1.0), u=us)
@example(hw=(1, 1), lam=0.0, u=np.zeros(4))
@example(hw=(1, 300), lam=0.0, u=np.full(4, BELOW_ONE))
@example(hw=(300, 1), lam=1.0, u=np.full(4, 0.5))
def test_cutmix_box_matches_formula(hw, lam, u):
    h, w = hw
    box = cutmix_box(h, w, lam, u)
    assert all(type(v) is int for v in box)
    y1, y2, x1, x2 = box
    assert 0 <= y1 <= y2 <= h and 0 <= x1 <= x2 <= w
    assert box == ref_box(h, w, lam, u)
    # Never larger than the uncut sides: at most (1 - lam) of the image.
    assert (y2 - y1) <= int(h * math.sqrt(1 - lam)) and (x2 - x1) <= int(w * math.sqrt(1 - lam))
    assert 0.0 <= box_lam(h, w, box) <= 1.0


def test_cutmix_box_rows_are_height_columns_are_width():
    # r = sqrt(1 - 0.75) = 0.5; centre (50, 150) of a 100-row, 300-column image.
    y1, y2, x1, x2 = cutmix_box(100, 300, 0.75, np.array([0.5, 0.5, 0.0, 0.0]))
    assert (y1, y2, x1, x2) == (25, 75, 75, 225)
    assert (y2 - y1, x2 - x1) == (50, 150)
    # and the transpose
    assert cutmix_box(300, 100, 0.75, np.array([0.5, 0.5, 0.0, 0.0])) == (75, 225, 25, 75)


def test_cutmix_box_lam_one_is_empty_and_centre_clips():
    assert box_lam(40, 60, cutmix_box(40, 60, 1.0, np.array([0.3, 0.6, 0, 0]))) == 1.0
    # Centre in the top-left corner: the box is clipped to the quarter inside the image.
    assert cutmix_box(100, 100, 0.75, np.array([0.0, 0.0, 0, 0])) == (0, 25, 0, 25)
    # Centre at the last pixel: u -> 1 maps to row h-1, never h.
    assert cutmix_box(100, 100, 0.75, np.array([BELOW_ONE, BELOW_ONE, 0, 0])) == (74, 100, 74, 100)


minmaxes = st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)).map(lambda t: tuple(sorted(t)))


@SETTINGS
@given(hw=sizes, lam=st.floats(0.0, 1.0), u=us, minmax=minmaxes)
@example(hw=(1, 1), lam=0.5, u=np.full(4, BELOW_ONE), minmax=(0.0, 1.0))
@example(hw=(7, 300), lam=0.5, u=np.full(4, BELOW_ONE), minmax=(1.0, 1.0))
def test_cutmix_box_minmax_sides_and_placement(hw, lam, u, minmax):
    h, w = hw
    lo, hi = minmax
    box = cutmix_box(h, w, lam, u, minmax)
    assert all(type(v) is int for v in box)
    y1, y2, x1, x2 = box
    assert 0 <= y1 <= y2 <= h and 0 <= x1 <= x2 <= w
    assert int(h * lo) <= y2 - y1 <= int(h * hi)
    assert int(w * lo) <= x2 - x1 <= int(w * hi)
    # lam plays no part in a minmax box.
    assert cutmix_box(h, w, 1.0 - lam, u, minmax) == box


@SETTINGS
@given(hw=sizes, u=us, minmax=minmaxes)
def test_cutmix_box_minmax_every_position_and_size_reachable(hw, u, minmax):
    h, w = hw
    lo, hi = minmax
    # Size extremes: u2/u3 -> 0 give the smallest sides, -> 1 the largest.
    for u23, (ch, cw) in ((0.0, (int(h * lo), int(w * lo))), (BELOW_ONE, (int(h * hi), int(w * hi)))):
        uu = np.array([u[0], u[1], u23, u23])
        y1, y2, x1, x2 = cutmix_box(h, w, 0.5, uu, minmax)
        assert (y2 - y1, x2 - x1) == (ch, cw)
    # Position extremes: u0/u1 -> 0 put the box at the top-left, -> 1 at the bottom-right.
    y1, y2, x1, x2 = cutmix_box(h, w, 0.5, np.array([0.0, 0.0, u[2], u[3]]), minmax)
    assert (y1, x1) == (0, 0)
    y1, y2, x1, x2 = cutmix_box(h, w, 0.5, np.array([BELOW_ONE, BELOW_ONE, u[2], u[3]]), minmax)
    assert (y2, x2) == (h, w)


@pytest.mark.parametrize("h, w, minmax", [(10, 7, (0.2, 0.6)), (3, 40, (0.0, 1.0)), (25, 25, (0.5, 0.5))])
def test_cutmix_box_minmax_hits_each_offset_and_side(h, w, minmax):
    lo, hi = minmax
    sides_h = set(range(int(h * lo), int(h * hi) + 1))
    sides_w = set(range(int(w * lo), int(w * hi) + 1))
    got_h, got_w = set(), set()
    for ch in sorted(sides_h):
        k = len(sides_h)
        u2 = (sorted(sides_h).index(ch) + 0.5) / k
        offsets = set()
        for j in range(h - ch + 1):
            u0 = (j + 0.5) / (h - ch + 1)
            y1, y2, _, _ = cutmix_box(h, w, 0.5, np.array([u0, 0.0, u2, 0.0]), minmax)
            got_h.add(y2 - y1)
            offsets.add(y1)
        assert offsets == set(range(h - ch + 1)), ch
    for cw in sorted(sides_w):
        u3 = (sorted(sides_w).index(cw) + 0.5) / len(sides_w)
        offsets = set()
        for j in range(w - cw + 1):
            u1 = (j + 0.5) / (w - cw + 1)
            _, _, x1, x2 = cutmix_box(h, w, 0.5, np.array([0.0, u1, 0.0, u3]), minmax)
            got_w.add(x2 - x1)
            offsets.add(x1)
        assert offsets == set(range(w - cw + 1)), cw
    assert got_h == sides_h and got_w == sides_w


# ---------------------------------------------------------------- box_lam


@SETTINGS
@given(hw=sizes, data=st.data())
def test_box_lam_is_share_outside_the_box(hw, data):
    h, w = hw
    y1, y2 = sorted(data.draw(st.tuples(st.integers(0, h), st.integers(0, h))))
    x1, x2 = sorted(data.draw(st.tuples(st.integers(0, w), st.integers(0, w))))
    inside = np.zeros((h, w), dtype=bool)
    inside[y1:y2, x1:x2] = True
    assert box_lam(h, w, (y1, y2, x1, x2)) == pytest.approx(1.0 - inside.sum() / (h * w), abs=1e-12)


def test_box_lam_values():
    assert box_lam(10, 20, (0, 10, 0, 20)) == 0.0
    assert box_lam(10, 20, (3, 3, 0, 20)) == 1.0
    assert box_lam(10, 20, (0, 5, 0, 10)) == 0.75
    assert box_lam(100, 300, (25, 75, 75, 225)) == 0.75

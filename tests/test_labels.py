"""mixcli.data.labels: label smoothing, mixing by recorded weights, and hard labels."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixcli.data.labels import Targets, hard_labels, mix, smooth
from mixcli.operations import REGISTRY
from mixcli.plan import make_plan


def _onehot(idx, k):
    t = np.zeros((len(idx), k))
    t[np.arange(len(idx)), idx] = 1.0
    return t


# ---------------------------------------------------------------- smooth


def test_smooth_one_hot():
    y = smooth(_onehot([0, 3], 4), 0.1)
    np.testing.assert_allclose(y, [[0.925, 0.025, 0.025, 0.025], [0.025, 0.025, 0.025, 0.925]], rtol=0, atol=1e-15)


def test_smooth_zero_is_identity():
    t = np.array([[0.7, 0.3, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(smooth(t, 0.0), t)


def test_smooth_uses_number_of_classes_not_rows():
    # 2 rows, 5 classes: eps / K = 0.2 / 5.
    y = smooth(_onehot([1, 4], 5), 0.2)
    assert y[0, 0] == pytest.approx(0.04)
    assert y[0, 1] == pytest.approx(0.84)


def test_smooth_does_not_modify_input():
    t = _onehot([0, 1, 2], 3)
    t0 = t.copy()
    smooth(t, 0.3)
    np.testing.assert_array_equal(t, t0)


@settings(max_examples=50, deadline=None)
@given(
    k=st.integers(1, 12),
    rows=st.integers(1, 20),
    eps=st.floats(0.0, 0.999),
    seed=st.integers(0, 2**32 - 1),
)
def test_smooth_formula_and_row_sums(k, rows, eps, seed):
    t = np.random.default_rng(seed).dirichlet(np.ones(k), rows)
    y = smooth(t, eps)
    assert y.shape == t.shape
    np.testing.assert_allclose(y, (1 - eps) * t + eps / k, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)
    assert (y >= eps / k - 1e-15).all()


# ---------------------------------------------------------------- mix


def test_mix_two_sources_by_weight():
    t = _onehot([0, 1, 2], 3)
    sources = np.array([[0, 1], [1, 2], [2, -1]])
    weights = np.array([[0.7, 0.3], [0.25, 0.75], [1.0, 0.0]])
    y = mix(t, sources, weights)
    np.testing.assert_allclose(y, [[0.7, 0.3, 0.0], [0.0, 0.25, 0.75], [0.0, 0.0, 1.0]], atol=1e-15)


def test_mix_first_weight_is_the_rows_own():
    # Asymmetric: the first weight weighs row i, the second its partner.
    t = _onehot([0, 1], 2)
    y = mix(t, np.array([[0, 1], [1, 0]]), np.array([[0.9, 0.1], [0.9, 0.1]]))
    np.testing.assert_allclose(y, [[0.9, 0.1], [0.1, 0.9]], atol=1e-15)


def test_mix_padded_rows_are_unchanged_exactly():
    t = np.array([[0.7, 0.3, 0.0], [0.0, 0.0, 1.0], [0.2, 0.2, 0.6]])
    sources = np.array([[0, -1, -1, -1], [1, 0, -1, -1], [2, -1, -1, -1]])
    weights = np.array([[1.0, 0, 0, 0], [0.5, 0.5, 0, 0], [1.0, 0, 0, 0]])
    y = mix(t, sources, weights)
    np.testing.assert_array_equal(y[[0, 2]], t[[0, 2]])
    np.testing.assert_allclose(y[1], [0.35, 0.15, 0.5], atol=1e-15)


def test_mix_of_two_is_bit_for_bit_the_mixup_formula():
    # lam*y_a + (1-lam)*y_b exactly as before the registry, so label columns keep their bytes.
    rng = np.random.default_rng(3)
    t = smooth(_onehot(rng.integers(0, 5, 200), 5), 0.1)
    partner = rng.permutation(200)
    lam = rng.beta(0.4, 0.4, 200)
    y = mix(t, np.stack([np.arange(200), partner], axis=1), np.stack([lam, 1.0 - lam], axis=1))
    np.testing.assert_array_equal(y, lam[:, None] * t + (1.0 - lam[:, None]) * t[partner])


def test_mix_lam_zero_gives_partner_label_exactly():
    t = np.array([[0.925, 0.075], [0.1, 0.9]])
    y = mix(t, np.array([[0, 1], [1, 0]]), np.array([[0.0, 1.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(y, t[[1, 0]])


def test_mix_does_not_modify_inputs():
    t = _onehot([0, 1], 2)
    sources = np.array([[0, 1], [1, -1]])
    weights = np.array([[0.5, 0.5], [1.0, 0.0]])
    copies = [a.copy() for a in (t, sources, weights)]
    mix(t, sources, weights)
    for a, c in zip((t, sources, weights), copies):
        np.testing.assert_array_equal(a, c)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(4, 60), k=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_mix_of_four_sources_matches_loop(n, k, seed):
    # As for mosaic: the row and the next three rows of its cycle, weights summing to 1.
    rng = np.random.default_rng(seed)
    t = smooth(_onehot(rng.integers(0, k, n), k), 0.1)
    plan = make_plan(n, REGISTRY["mosaic"](), 1.0, seed)
    sources = np.concatenate([np.arange(n)[:, None], plan.partners(3)], axis=1)
    weights = rng.dirichlet(np.ones(4), n)
    y = mix(t, sources, weights)
    for i in range(n):
        expected = sum(weights[i, s] * t[sources[i, s]] for s in range(4))
        np.testing.assert_allclose(y[i], expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)


# ---------------------------------------------------------------- hard_labels


def test_hard_labels_argmax():
    t = np.array([[0.1, 0.7, 0.2], [0.0, 0.0, 1.0], [0.6, 0.4, 0.0]])
    assert hard_labels(t, ["a", "b", "c"]) == ["b", "c", "a"]


def test_hard_labels_ties_go_to_first_class():
    t = np.array([[0.5, 0.5, 0.0], [0.2, 0.4, 0.4], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.5, 0.5]])
    assert hard_labels(t, [10, 2, 7]) == [10, 2, 10, 2]


def test_hard_labels_keep_class_objects():
    labels = hard_labels(_onehot([2, 0], 3), [1, 2, 10])
    assert labels == [10, 1]
    assert all(type(v) is int for v in labels)


def test_hard_labels_of_mixed_and_smoothed():
    # lam 0.5 between class 0 and class 1 is a tie -> class 0 for both rows.
    t = smooth(_onehot([0, 1], 2), 0.1)
    pairs = np.array([[0, 1], [1, 0]])
    y = mix(t, pairs, np.array([[0.5, 0.5], [0.5, 0.5]]))
    assert hard_labels(y, ["cat", "dog"]) == ["cat", "cat"]
    y = mix(t, pairs, np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert hard_labels(y, ["cat", "dog"]) == ["cat", "dog"]


# ---- Targets: the labels held sparsely ----



def _random_dense(rng, n=50, k=7):
    dense = np.zeros((n, k))
    for r in range(n):
        cols = rng.choice(k, size=rng.integers(1, 4), replace=False)
        dense[r, cols] = rng.random(len(cols))
    return dense


def test_targets_dense_rows_are_the_rows():
    rng = np.random.default_rng(0)
    dense = _random_dense(rng)
    t = Targets.from_dense(dense)
    rows = rng.integers(0, 50, 80)
    np.testing.assert_array_equal(t.dense(rows), dense[rows])
    np.testing.assert_array_equal(np.asarray(t), dense)
    assert t.shape == (50, 7) and len(t.values) == np.count_nonzero(dense)


def test_targets_from_rows_and_one_hot():
    t = Targets.from_rows([{2: 0.25, 0: 0.75}, {}, {1: 1.0}], 3)
    np.testing.assert_array_equal(np.asarray(t), [[0.75, 0, 0.25], [0, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(np.asarray(Targets.one_hot(np.array([2, 0]), 3)), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(t.hard(), [0, 0, 1])


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_mixing_sparse_targets_is_bit_for_bit_mixing_dense_ones(eps):
    rng = np.random.default_rng(1)
    dense = _random_dense(rng)
    sources = np.stack([rng.integers(0, 50, 40), rng.integers(0, 50, 40), np.where(rng.random(40) < 0.5, -1, rng.integers(0, 50, 40))], axis=1)
    weights = rng.random((40, 3))
    weights[sources < 0] = 0.0
    expected = mix(smooth(dense, eps), sources, weights)  # the dense arithmetic of before
    assert np.array_equal(mix(Targets.from_dense(dense), sources, weights, eps), expected)


@pytest.mark.parametrize("seed", range(5))
def test_sparse_mixing_gives_the_dense_floats(seed):
    from mixcli.data.labels import mix_sparse

    rng = np.random.default_rng(seed)
    dense = _random_dense(rng, n=60, k=5)
    sources = rng.integers(-1, 60, (300, 4))
    sources[:, 0] = rng.integers(0, 60, 300)
    weights = rng.dirichlet(np.ones(4), 300)
    weights[sources < 0] = 0.0
    expected = mix(dense, sources, weights)
    rows, cls, val = mix_sparse(Targets.from_dense(dense), sources, weights)
    got = np.zeros_like(expected)
    got[rows, cls] = val
    assert np.array_equal(got, expected)  # bit for bit: sums in source order
    assert np.all(val != 0) and np.all(np.diff(rows * 10 + cls) > 0)

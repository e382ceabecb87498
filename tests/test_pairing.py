"""--pairing random|cross-class|balanced and --remix KAPPA TAU.

The partners' distributions through the plan (mixcli.plan.make_plan, plan.pairing.draw_partners):
cross-class never pairs a class (multi-label: any class) with itself, balanced draws the
partners' classes uniformly (chi-square) where random pairing does not, never the row itself,
seeded and copy-major. Remix's label weights against the formula, unit and end to end. Runs with
drawn partners are pixel-exact against their CSV rows (reference.verify with the drawn pairs) and
keep the old guarantees: same bytes whatever --workers or shard groups, --copies and
--keep-originals, --dry-run, --skip-bad. Bad combinations: one line, the right exit code, no OUT.
"""

import json
import signal
import subprocess

import cv2
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import (SHAPES, assert_one_line_error, big_data, invoke, invoke_ok, load, mixcli_command, out_files, read_out, text,
                      visible_files, wait_for_journal, write_dataset)
from detection_data import make_dataset
from mixcli.data.labels import Remix, Targets
from mixcli.operations import REGISTRY
from mixcli.plan import Members, PairingError, make_plan
from mixcli.plan.pairing import draw_partners
from reference import PARTNERS, ref_blend, ref_resize, verify

DRAWN = ("cross-class", "balanced")
MIXING = ("mixup", "cutmix", "mosaic", "fmix")


# ---------------------------------------------------------------- helpers


def plan_pairs(n, op, seed, pairing, members, copies=1, names=None) -> np.ndarray:
    """The partners a run of `op` draws: (n*copies, sources-1) input rows."""
    plan = make_plan(n, REGISTRY[op](), 1.0, seed, copies, pairing, members, names)
    assert plan.pairs is not None
    return plan.pairs


def imbalanced(sizes, seed=0) -> np.ndarray:
    """Single-label class indices with sizes[c] rows of class c, shuffled."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return np.random.default_rng(seed).permutation(labels)


def multi_members(sets: list[set[int]], num_classes: int) -> Members:
    indptr = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(np.int64)
    indices = np.array([c for s in sets for c in sorted(s)], dtype=np.int64)
    return Members(indptr, indices, list(range(num_classes)))


def input_table(data) -> pd.DataFrame:
    return pd.read_csv(data / "train.csv", keep_default_na=False, dtype=str)


def dataset_plan(data, op, seed, pairing, copies=1, prob=1.0):
    """The plan of a run on DATA (one-hot labels, classes sorted as mixcli sorts them)."""
    table = input_table(data)
    raw = list(table.label)
    keyed = [int(v) for v in raw] if all(v.lstrip("-").isdigit() for v in raw) else raw
    classes = sorted(set(keyed))
    idx = np.array([classes.index(v) for v in keyed])
    plan = make_plan(len(idx), REGISTRY[op](), prob, seed, copies, pairing, Members.single(idx, classes), list(table.image))
    assert plan.pairs is not None
    return plan


def dataset_pairs(data, op, seed, pairing, copies=1) -> np.ndarray:
    """The pairs a run on DATA draws: (n*copies, sources-1) input rows."""
    return dataset_plan(data, op, seed, pairing, copies).pairs


def check_partner_classes(data, df, pairing) -> None:
    """From the CSVs alone: every mixed row's partners are other images, and of another class with cross-class."""
    label_of = dict(zip(input_table(data).image, input_table(data).label))
    mixed = df[df.op != "none"]
    assert len(mixed)
    for r in mixed.itertuples():
        sources = text(r.sources).split(";")
        own, partners = sources[0], sources[1:]
        assert own == r.source_a and own not in partners, r.image
        if pairing == "cross-class":
            assert all(label_of[p] != label_of[own] for p in partners), (r.image, sources)


def row_pixels(data, out, r) -> None:
    """A mixed row's pixels from its CSV row alone (its sources, lam, boxes and mask)."""
    sources = text(r.sources).split(";")
    a = load(data / "train" / sources[0])
    h, w = a.shape[:2]
    got = load(out / r.image)
    if r.op == "none":
        want = a
    elif r.op == "mixup":
        want = ref_blend(a, ref_resize(load(data / "train" / sources[1]), w, h), r.lam)
    elif r.op == "cutmix":
        want = a.copy()
        x1, y1, x2, y2 = (int(getattr(r, c)) for c in ("x1", "y1", "x2", "y2"))
        want[y1:y2, x1:x2] = ref_resize(load(data / "train" / sources[1]), w, h)[y1:y2, x1:x2]
    elif r.op == "mosaic":
        want = np.zeros_like(a)
        for s, box in zip(sources, text(r.boxes).split(";")):
            x1, y1, x2, y2 = map(int, box.split())
            if x2 > x1 and y2 > y1:
                want[y1:y2, x1:x2] = ref_resize(load(data / "train" / s), x2 - x1, y2 - y1)
    elif r.op == "fmix":
        mask = cv2.imread(str(out / r.mask), cv2.IMREAD_UNCHANGED) == 255
        want = np.where(mask[:, :, None], ref_resize(load(data / "train" / sources[1]), w, h), a)
    else:
        raise AssertionError(r.op)
    np.testing.assert_array_equal(got, want, err_msg=f"{r.image} ({r.op})")


@pytest.fixture(scope="module")
def data40(tmp_path_factory):
    """40 small PNGs of SHAPES' sizes, classes 0:24, 1:12, 2:4 interleaved: three chunks of the plan."""
    labels = [2 if k % 10 == 7 else 1 if k % 10 in (2, 5, 9) else 0 for k in range(40)]
    return write_dataset(tmp_path_factory.mktemp("d40"), SHAPES * 4, labels)


def remix_data(root, n_a=12, n_b=3):
    """n_a images of class a, n_b of class b (24x32 PNGs, interleaved)."""
    labels = ["b" if k % 5 == 4 and k // 5 < n_b else "a" for k in range(n_a + n_b)]
    assert labels.count("b") == n_b
    return write_dataset(root, [(24, 32)] * (n_a + n_b), labels)


# ---------------------------------------------------------------- 1. the distributions


@pytest.mark.parametrize("op", ["mixup", "mosaic"])
def test_cross_class_single_label_partners_are_of_another_class(op):
    labels = imbalanced([30, 12, 5, 1], seed=1)
    n, count = len(labels), PARTNERS[op]
    members = Members.single(labels, list(range(4)))
    for seed in range(5):
        pairs = plan_pairs(n, op, seed, "cross-class", members, copies=3)
        assert pairs.shape == (3 * n, count) and pairs.dtype.kind == "i"
        rows = np.tile(np.arange(n), 3)
        assert ((pairs >= 0) & (pairs < n)).all()  # every row has its partners
        assert (pairs != rows[:, None]).all()  # never the row itself
        assert (labels[pairs] != labels[rows][:, None]).all()  # never its class
    # Many draws a row: every image of another class is drawn, and only those.
    many = draw_partners("cross-class", members, np.random.default_rng(0), 300, [str(k) for k in range(n)])
    for i in range(n):
        assert set(many[i].tolist()) == set(np.flatnonzero(labels != labels[i]).tolist()), i


@pytest.mark.parametrize("op", ["mixup", "mosaic"])
def test_cross_class_multi_label_partners_share_no_class(op):
    rng = np.random.default_rng(7)
    sets = [set(rng.choice(5, size=rng.integers(1, 4), replace=False).tolist()) for _ in range(60)]
    sets += [{0, 1, 2, 3}, {4}, {4}, {0, 1, 2, 3}]  # rows 60 and 63 can only go with rows 61, 62 (and any other {4})
    members = multi_members(sets, 5)
    n, count = len(sets), PARTNERS[op]
    only4 = {j for j, s in enumerate(sets) if s == {4}}
    for seed in range(4):
        pairs = plan_pairs(n, op, seed, "cross-class", members, copies=3)
        assert pairs.shape == (3 * n, count)
        for r, partners in enumerate(pairs.tolist()):
            i = r % n
            assert all(0 <= j < n and j != i for j in partners), (i, partners)
            assert all(not (sets[i] & sets[j]) for j in partners), (i, sets[i], [sets[j] for j in partners])
            if sets[i] == {0, 1, 2, 3}:
                assert set(partners) <= only4


def test_cross_class_with_no_partner_is_a_pairing_error():
    with pytest.raises(PairingError, match="cross-class needs two classes or more; every image is of class 'a'"):
        draw_partners("cross-class", Members.single(np.zeros(6, np.int64), ["a"]), np.random.default_rng(0), 1, [f"x{k}" for k in range(6)])
    sets = [{0}, {1}, {0, 1}, {1}]  # x2 shares a class with every other row
    with pytest.raises(PairingError, match="x2"):
        draw_partners("cross-class", multi_members(sets, 2), np.random.default_rng(0), 1, [f"x{k}" for k in range(4)])


def _partner_classes(labels, op, pairing, seeds, copies):
    n = len(labels)
    members = Members.single(labels, list(range(int(labels.max()) + 1)))
    counts = np.zeros(int(labels.max()) + 1, np.int64)
    for seed in seeds:
        if pairing == "random":
            partners = make_plan(n, REGISTRY[op](), 1.0, seed, 1).partners(PARTNERS[op])
        else:
            partners = plan_pairs(n, op, seed, pairing, members, copies=copies)
        counts += np.bincount(labels[partners.ravel()], minlength=len(counts))
    return counts


@pytest.mark.parametrize("op", ["mixup", "mosaic"])
def test_balanced_partner_classes_are_uniform_where_random_ones_are_not(op):
    labels = imbalanced([2, 20, 200], seed=3)  # 1:10:100
    balanced = _partner_classes(labels, op, "balanced", range(5), copies=8)
    assert balanced.sum() == 5 * 8 * len(labels) * PARTNERS[op]
    assert stats.chisquare(balanced).pvalue > 0.001, balanced
    random = _partner_classes(labels, op, "random", range(40), copies=1)  # as many draws
    assert random.sum() == balanced.sum()
    assert stats.chisquare(random).pvalue < 1e-6, random  # the same test sees the imbalance
    assert random[0] < random[1] < random[2]


def test_balanced_draws_only_classes_that_have_images():
    labels = imbalanced([3, 0, 30, 0, 300], seed=2)  # classes 1 and 3 have no image (e.g. soft labels' columns)
    counts = np.zeros(5, np.int64)
    for seed in range(3):
        pairs = plan_pairs(len(labels), "mixup", seed, "balanced", Members.single(labels, list(range(5))), copies=6)
        counts += np.bincount(labels[pairs.ravel()], minlength=5)
    assert counts[1] == counts[3] == 0
    assert stats.chisquare(counts[[0, 2, 4]]).pvalue > 0.001, counts


def test_balanced_partners_are_uniform_within_their_class():
    labels = imbalanced([2, 20, 200], seed=3)
    n = len(labels)
    pairs = np.concatenate([plan_pairs(n, "mixup", s, "balanced", Members.single(labels, list(range(3))), copies=10) for s in range(4)]).ravel()
    for c in (1, 2):
        members = np.flatnonzero(labels == c)
        hits = np.bincount(pairs, minlength=n)[members]
        assert hits.min() > 0
        assert stats.chisquare(hits).pvalue > 0.001, (c, hits)


def test_balanced_never_draws_the_row_itself():
    labels = np.array([0] + [1] * 9)  # class 0 has one image: its own row must redraw
    for seed in range(10):
        pairs = plan_pairs(10, "mosaic", seed, "balanced", Members.single(labels, list(range(2))), copies=4)
        assert (pairs != np.tile(np.arange(10), 4)[:, None]).all()
        assert (pairs >= 0).all() and (pairs < 10).all()
    for labels in (np.array([0, 1]), np.array([0, 0])):  # two rows: each other's partner
        pairs = plan_pairs(2, "mixup", 0, "balanced", Members.single(labels, list(range(int(labels.max()) + 1))), copies=5)
        assert pairs[:, 0].tolist() == [1, 0] * 5


@pytest.mark.parametrize("pairing", DRAWN)
def test_pairs_are_seeded_copy_major_and_leave_the_other_draws_alone(pairing):
    labels = imbalanced([20, 8, 4])
    n, members = len(labels), Members.single(labels, list(range(3)))
    one = plan_pairs(n, "mosaic", 4, pairing, members)
    assert np.array_equal(one, plan_pairs(n, "mosaic", 4, pairing, members))  # same seed, same pairs
    assert not np.array_equal(one, plan_pairs(n, "mosaic", 5, pairing, members))  # another seed, others
    three = plan_pairs(n, "mosaic", 4, pairing, members, copies=3)
    assert np.array_equal(three[:n], one)  # copy 0 is the plan of one copy
    assert not np.array_equal(three[n : 2 * n], one) and not np.array_equal(three[2 * n :], three[n : 2 * n])
    # The pairing's own stream: which rows mix, the operation's draws and the cycles are random's.
    drawn = make_plan(n, REGISTRY["mosaic"](), 0.7, 4, 3, pairing, members)
    plain = make_plan(n, REGISTRY["mosaic"](), 0.7, 4, 3)
    assert plain.pairs is None
    assert np.array_equal(drawn.mixed, plain.mixed) and all(np.array_equal(drawn.chunks[k], c) for k, c in enumerate(plain.chunks))
    assert drawn.draws.keys() == plain.draws.keys() and all(np.array_equal(drawn.draws[k], plain.draws[k]) for k in plain.draws)


# ---------------------------------------------------------------- 2. Remix


def remix_formula(n_own, n_partner, lam, kappa, tau) -> float:
    """Remix's lambda_y (Chou et al. 2020), as written."""
    ratio = n_own / n_partner
    if ratio >= kappa and lam < tau:
        return 0.0
    if ratio <= 1 / kappa and 1 - lam < tau:
        return 1.0
    return lam


@pytest.mark.parametrize("kappa, tau", [(3.0, 0.5), (3.0, 0.3), (1.0, 0.5), (1.5, 0.7), (2.0, 0.0), (4.0, 1.0)])
def test_remix_weights_follow_the_formula_on_a_grid(kappa, tau):
    counts = [36, 12, 4, 3, 1, 6, 2]  # ratios 3, 1/3, 4, 1/4, 1, 3/2, 2/3, 12, ...
    hard = np.repeat(np.arange(len(counts)), counts)
    remix = Remix.of(Targets.one_hot(hard, len(counts)), kappa, tau)
    assert remix.counts.tolist() == counts
    first = {c: int(np.flatnonzero(hard == c)[0]) for c in range(len(counts))}
    last = {c: int(np.flatnonzero(hard == c)[-1]) for c in range(len(counts))}
    lams = sorted({0.0, 1e-9, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 1.0, tau, 1 - tau,
                   float(np.nextafter(tau, 0)), float(np.nextafter(tau, 1)), float(np.nextafter(1 - tau, 0)), float(np.nextafter(1 - tau, 1))})
    lams = [x for x in lams if 0 <= x <= 1]
    sources, weights, want = [], [], []
    for a in range(len(counts)):
        for b in range(len(counts)):
            i, j = first[a], last[b] if last[b] != first[a] else first[b]
            for lam in lams:
                sources.append([i, j])
                weights.append([lam, 1 - lam])
                y = remix_formula(counts[a], counts[b], lam, kappa, tau)
                want.append([y, 1 - y] if y != lam else [lam, 1 - lam])
    got = remix.weights(np.array(sources), np.array(weights))
    assert got.tolist() == want
    cases = {(w[0] == 0.0, w[0] == 1.0) for w, (lam, _) in zip(want, weights) if lam not in (0.0, 1.0)}
    if 0 < tau < 1:
        assert {(True, False), (False, True), (False, False)} <= cases  # the grid reaches every branch
    # the boundaries, by name
    idx = {(a, b, lam): k for k, ((i, j), (lam, _)) in enumerate(zip(sources, weights)) for a, b in [(int(hard[i]), int(hard[j]))]}
    if kappa == 3.0:
        assert got[idx[(1, 2, 0.25)]].tolist() == ([0.0, 1.0] if 0.25 < tau else [0.25, 0.75])  # ratio 12/4 == kappa
        assert got[idx[(2, 1, 0.75)]].tolist() == ([1.0, 0.0] if 0.25 < tau else [0.75, 0.25])  # ratio 4/12 == 1/kappa
        assert got[idx[(1, 2, tau)]].tolist() == [tau, 1 - tau]  # lam == tau is not < tau
    # Rows of 1 or 4 sources, and the one-row form.
    one = remix.weights(np.array([[first[0], -1]]), np.array([[1.0, 0.0]]))
    assert one.tolist() == [[1.0, 0.0]]
    four = np.array([[first[0], last[4], first[2], first[3]]]), np.array([[0.1, 0.2, 0.3, 0.4]])
    assert remix.weights(*four).tolist() == four[1].tolist()
    y = remix_formula(12, 4, 0.2, kappa, tau)
    assert remix.row([first[1], last[2]], [0.2, 0.8]) == ([y, 1 - y] if y != 0.2 else [0.2, 0.8])
    assert remix.row([first[0]], [1.0]) == [1.0]


REMIX_RUNS = {  # name: (op, TAU, options); KAPPA 3
    "mixup": ("mixup", 0.5, []),
    "cutmix": ("cutmix", 0.6, []),
    "mixup balanced, smoothing, originals": ("mixup", 0.5, ["--pairing", "balanced", "--label-smoothing", "0.1", "--keep-originals"]),
    "resizemix cross-class": ("resizemix", 0.7, ["--pairing", "cross-class"]),
}


@pytest.mark.parametrize("case", list(REMIX_RUNS))
def test_remix_end_to_end_reweights_labels_not_pixels(tmp_path, case):
    op, tau, extra = REMIX_RUNS[case]
    kappa = 3.0
    data = remix_data(tmp_path / "d")  # a: 12, b: 3 -> ratios 4 and 1/4
    common = (op, data, "--format", "png", "--seed", "2", "--copies", "4", *extra, "-q")
    invoke_ok(*common[:1], data, tmp_path / "plain", *common[2:])
    invoke_ok(*common[:1], data, tmp_path / "remix", *common[2:], "--remix", kappa, tau)
    plain, df = read_out(tmp_path / "plain"), read_out(tmp_path / "remix")
    eps = 0.1 if "--label-smoothing" in extra else 0.0
    # Pixels, ops, sources and lam are the run's without --remix.
    for col in ("image", "op", "source_a", "source_b", "lam", "x1", "y1", "x2", "y2", "sources", "boxes", "mask"):
        assert df[col].equals(plain[col]), col
    for name in df.image:
        assert (tmp_path / "remix" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes()
    label_of = dict(zip(input_table(data).image, input_table(data).label))
    count = {c: list(label_of.values()).count(c) for c in ("a", "b")}
    branches = set()
    for r, p in zip(df.itertuples(), plain.itertuples()):
        sources = text(r.sources).split(";")
        pixel_w = [float(x) for x in text(p.weights).split(";")]
        assert r.lam == pixel_w[0]
        if r.op == "mixup":  # the pixels are the blend at lam
            row_pixels(data, tmp_path / "remix", r)
        if len(sources) == 2:
            own, partner = (label_of[s] for s in sources)
            y = remix_formula(count[own], count[partner], r.lam, kappa, tau)
            want = [y, 1 - y] if y != r.lam else pixel_w
            branches.add("0" if y == 0.0 and r.lam > 0 else "1" if y == 1.0 and r.lam < 1 else "lam")
        else:
            want = pixel_w
        assert [float(x) for x in text(r.weights).split(";")] == want, r.image
        p_ = {c: eps / 2 for c in ("a", "b")}
        for s, w in zip(sources, want):
            p_[label_of[s]] += (1 - eps) * w
        got = np.array([r.p_a, r.p_b])
        np.testing.assert_allclose(got, [p_["a"], p_["b"]], rtol=0, atol=1e-12, err_msg=r.image)
        assert r.label == ("a" if r.p_a >= r.p_b else "b"), r.image
    assert branches == {"0", "1", "lam"}, branches  # the run reached each of Remix's cases
    assert (df.weights != plain.weights).any()
    if tau > 0.5:  # a weight moved past a half: the hard label changes
        assert (df.label != plain.label).any()


def test_remix_reaches_sparse_labels_class_folders_and_dry_run(tmp_path):
    data = remix_data(tmp_path / "d")
    flags = ("--remix", "3", "0.7", "--seed", "2", "--copies", "4", "--pairing", "balanced")
    invoke_ok("mixup", data, tmp_path / "dense", *flags, "-q")
    dense = read_out(tmp_path / "dense")
    dry = invoke_ok("mixup", data, tmp_path / "dry", *flags, "--dry-run")
    assert dry.stdout.splitlines() == (tmp_path / "dense" / "train.csv").read_text().splitlines()[:6]
    invoke_ok("mixup", data, tmp_path / "sparse", *flags, "--label-format", "sparse", "-q")
    sparse = read_out(tmp_path / "sparse")
    assert sparse.label.tolist() == dense.label.tolist() and sparse.weights.tolist() == dense.weights.tolist()
    for r, d in zip(sparse.itertuples(), dense.itertuples()):
        got = {c: float(w) for c, w in (e.split(":") for e in r.soft_label.split(";"))}
        assert got == {c: w for c, w in (("a", d.p_a), ("b", d.p_b)) if w != 0}, r.image
    invoke_ok("mixup", data, tmp_path / "folders", *flags, "--out-layout", "folders", "-q")
    folders = read_out(tmp_path / "folders")
    assert folders.label.tolist() == dense.label.tolist()
    assert [name.split("/")[1] for name in folders.image] == folders.label.tolist()  # filed by the remixed label
    assert all((tmp_path / "folders" / name).is_file() for name in folders.image)


# ---------------------------------------------------------------- 3. the old guarantees, with drawn partners


@pytest.mark.parametrize("pairing", DRAWN)
@pytest.mark.parametrize("op", MIXING)
def test_drawn_partners_keep_the_old_guarantees(data40, tmp_path, op, pairing):
    """Pixel-exact rows, --workers 1 and 3, --dry-run, --copies and --keep-originals, two shard groups."""
    n, k = 40, 2
    names = list(input_table(data40).image)
    flags = (op, data40)
    common = ("--pairing", pairing, "--format", "png", "--seed", "3", "--prob", "0.9", "-q")
    # 1. Every row re-derived by the reference from the plan's drawn partners; the pairing's classes.
    invoke_ok(*flags, tmp_path / "w1", *common, "--workers", "1")
    df1 = verify(data40, tmp_path / "w1", op, prob=0.9, seed=3, pairs=dataset_pairs(data40, op, 3, pairing))
    check_partner_classes(data40, df1, pairing)
    assert (df1.op == "none").any() and (df1.op != "none").sum() >= 30
    # 2. The same bytes on 3 workers.
    invoke_ok(*flags, tmp_path / "w3", *common, "--workers", "3")
    assert visible_files(tmp_path / "w3") == visible_files(tmp_path / "w1")
    # 3. --copies 2 --keep-originals: --dry-run shows its first rows; copy 0 is the run of one copy,
    # byte for byte; copy c's partners are the plan's; the originals are the inputs' bytes.
    copies = (*common, "--copies", k, "--keep-originals", "--shard-size", "16")
    dry = invoke_ok(*flags, tmp_path / "o", *copies, "--dry-run")
    assert not (tmp_path / "o").exists()
    invoke_ok(*flags, tmp_path / "o", *copies)
    lines = (tmp_path / "o" / "train.csv").read_text().splitlines()
    assert dry.stdout.splitlines() == lines[:6]
    assert [x.split(",", 1)[1] for x in lines[: n + 1]] == [x.split(",", 1)[1] for x in (tmp_path / "w1" / "train.csv").read_text().splitlines()]
    df = read_out(tmp_path / "o")
    for a, b in zip(df1.image, df.image[:n]):
        assert (tmp_path / "w1" / a).read_bytes() == (tmp_path / "o" / b).read_bytes()
    plan = dataset_plan(data40, op, 3, pairing, copies=k, prob=0.9)
    assert len(df) == (k + 1) * n and df.source_a.tolist() == names * (k + 1)
    for c in range(k):
        for i in range(n):
            r = next(df.iloc[[c * n + i]].itertuples())
            if plan.mixed[c * n + i]:
                assert r.op == op and text(r.sources).split(";") == [names[i]] + [names[j] for j in plan.pairs[c * n + i]], (c, i)
            else:
                assert r.op == "none" and text(r.sources) == names[i], (c, i)
            if c == 1:
                row_pixels(data40, tmp_path / "o", r)
    check_partner_classes(data40, df.iloc[: k * n], pairing)
    originals = df.iloc[k * n :]
    assert (originals.op == "none").all() and (originals.weights == "1.0").all()
    for r in originals.itertuples():
        assert (tmp_path / "o" / r.image).read_bytes() == (data40 / "train" / r.source_a).read_bytes()
    # 4. Two shard groups (3 shards: partners read from other groups' chunks), merged: the same run.
    out = tmp_path / "sharded"
    for group in ("1/2", "0/2"):
        summary = json.loads(invoke_ok(*flags, out, *copies, "--shards", group, "--json").stdout)
        assert len(summary["shards"]) in (1, 2)
    invoke_ok("merge", out, "-q")
    assert visible_files(out) == visible_files(tmp_path / "o")


@pytest.mark.parametrize("op", MIXING)
def test_random_pairing_is_the_default_byte_for_byte(data40, tmp_path, op):
    invoke_ok(op, data40, tmp_path / "default", "--seed", "5", "-q")
    invoke_ok(op, data40, tmp_path / "random", "--seed", "5", "--pairing", "random", "-q")
    assert out_files(tmp_path / "random") == out_files(tmp_path / "default")
    invoke_ok(op, data40, tmp_path / "cross", "--seed", "5", "--pairing", "cross-class", "-q")
    assert read_out(tmp_path / "cross").sources.tolist() != read_out(tmp_path / "default").sources.tolist()


def test_shard_groups_must_agree_on_pairing_and_remix(data40, tmp_path):
    out, shard = tmp_path / "o", ("--shard-size", "16", "--seed", "2", "-q")
    flags = ("--pairing", "cross-class", "--remix", "2", "0.5", *shard)
    invoke_ok("mixup", data40, out, *flags, "--shards", "0/2")
    assert_one_line_error(invoke("mixup", data40, out, "--pairing", "balanced", "--remix", "2", "0.5", *shard, "--shards", "1/2"), 1, "--pairing cross-class then balanced")
    assert_one_line_error(invoke("mixup", data40, out, "--remix", "2", "0.5", *shard, "--shards", "1/2"), 1, "--pairing cross-class then random")
    assert_one_line_error(invoke("mixup", data40, out, "--pairing", "cross-class", *shard, "--shards", "1/2"), 1, "--remix")
    assert_one_line_error(invoke("mixup", data40, out, "--pairing", "cross-class", "--remix", "3", "0.5", *shard, "--shards", "1/2"), 1, "--remix")
    assert not (out / "train.csv").exists()
    invoke_ok("mixup", data40, out, *flags, "--shards", "1/2")
    invoke_ok("merge", out, "-q")
    invoke_ok("mixup", data40, tmp_path / "one", *flags)
    assert visible_files(out) == visible_files(tmp_path / "one")


def test_python_api_takes_pairing_and_remix(tmp_path):
    from mixcli import api

    data = remix_data(tmp_path / "d")
    invoke_ok("cutmix", data, tmp_path / "cli", "--pairing", "balanced", "--remix", "2", "0.6", "--seed", "1", "-q")
    summary = api.run("cutmix", data, tmp_path / "api", pairing="balanced", remix=(2, 0.6), seed=1)
    assert summary["rows"] == 15
    assert visible_files(tmp_path / "api") == visible_files(tmp_path / "cli")
    invoke_ok("cutmix", data, tmp_path / "plain", "--seed", "1", "-q")
    assert read_out(tmp_path / "api").sources.tolist() != read_out(tmp_path / "plain").sources.tolist()


def test_cross_class_pairs_soft_labelled_rows_by_their_hard_label(data40, tmp_path):
    """A chained run reads soft labels (p_ columns): its classes are the class of largest weight."""
    first = tmp_path / "first"
    invoke_ok("mixup", data40, first, "--seed", "1", "--format", "png", "-q")
    hard = dict(zip(read_out(first).image, read_out(first).label))
    assert len(set(hard.values())) == 3
    out = tmp_path / "second"
    invoke_ok("cutmix", first, out, "--seed", "2", "--pairing", "cross-class", "--format", "png", "-q")
    df = read_out(out)
    for r in df.itertuples():
        sources = text(r.sources).split(";")
        assert r.op == "cutmix" and hard[sources[0]] != hard[sources[1]], sources


def test_drawn_partners_of_multi_label_rows_end_to_end(tmp_path):
    labels = ["cat|dog", "dog", "cat|bird", "bird", "dog", "cat", "fish", "bird|fish", "cat|dog|bird", "fish|dog"] * 2
    data = write_dataset(tmp_path / "d", [(12, 16)] * len(labels), labels)
    (data / "train.csv").write_text("image,label\n" + "".join(f'img{k:03d}.png,"{l}"\n' for k, l in enumerate(labels)))
    sets = {f"img{k:03d}.png": set(l.split("|")) for k, l in enumerate(labels)}
    for op, pairing in (("mixup", "cross-class"), ("mosaic", "cross-class"), ("mosaic", "balanced")):
        out = tmp_path / f"{op}-{pairing}"
        invoke_ok(op, data, out, "--label-sep", "|", "--pairing", pairing, "--seed", "3", "--copies", "2", "--format", "png", "-q")
        df = read_out(out)
        assert (df.op == op).all() and len(df) == 2 * len(labels)
        for r in df.itertuples():
            own, *partners = text(r.sources).split(";")
            assert own not in partners
            if pairing == "cross-class":
                assert all(not (sets[own] & sets[p]) for p in partners), (own, partners)
            row_pixels(data, out, r)


@pytest.mark.slow
def test_sigkill_then_resume_with_drawn_partners_and_remix_gives_the_same_bytes(tmp_path):
    data = big_data(tmp_path, n=160)  # classes 0..4; rows of other chunks are partners
    args = ["--pairing", "balanced", "--remix", "1", "0.5", "--copies", "2", "--quality", "90", "-q"]  # kappa 1: equal classes move too
    ref = tmp_path / "ref"
    assert subprocess.run(mixcli_command("cutmix", data, ref, *args), check=False).returncode == 0
    out = tmp_path / "out"
    proc = subprocess.Popen(mixcli_command("cutmix", data, out, "--workers", "1", *args))
    assert wait_for_journal(out, proc, lines=2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "train.csv").exists()
    assert subprocess.run(mixcli_command("cutmix", data, out, "--resume", *args), check=False).returncode == 0
    assert out_files(out) == out_files(ref)


# ---------------------------------------------------------------- 4. --skip-bad with drawn partners


@pytest.mark.parametrize("pairing", DRAWN)
@pytest.mark.parametrize("op", ["mixup", "mosaic"])
def test_skip_bad_a_bad_drawn_partner_passes_its_rows_through(tmp_path, op, pairing):
    labels = [2 if k % 10 == 7 else 1 if k % 10 in (2, 5, 9) else 0 for k in range(40)]
    data = write_dataset(tmp_path / "d", SHAPES * 4, labels)
    names = list(input_table(data).image)
    pairs = dataset_pairs(data, op, 3, pairing)
    drawn_by = {j: {i for i in range(40) if j in pairs[i]} for j in range(40)}
    bad = max(drawn_by, key=lambda j: len(drawn_by[j]))  # the image most rows drew
    (data / "train" / names[bad]).write_bytes(b"")
    out = tmp_path / "w1"
    result = invoke_ok(op, data, out, "--pairing", pairing, "--seed", "3", "--format", "png", "--skip-bad", "--workers", "1")
    df = verify(data, out, op, seed=3, bad=[names[bad]], pairs=pairs)
    through = df.set_index("source_a").loc[[names[i] for i in sorted(drawn_by[bad])]]
    assert len(through) >= 2 and (through.op == "none").all() and (through.lam == 1.0).all()
    assert (df[~df.source_a.isin(through.index)].op == op).all()
    assert names[bad] not in set(";".join(df.sources.map(text)).split(";"))
    skipped = pd.read_csv(out / "skipped.csv", keep_default_na=False)
    assert list(skipped.image) == [names[bad]] and skipped.error[0]
    assert "skipped 1" in result.stderr and names[bad] in result.stderr
    invoke_ok(op, data, tmp_path / "w3", "--pairing", pairing, "--seed", "3", "--format", "png", "--skip-bad", "--workers", "3", "-q")
    assert out_files(tmp_path / "w3") == out_files(out)


def test_skip_bad_with_copies_passes_through_only_the_copies_that_drew_it(tmp_path):
    labels = [2 if k % 10 == 7 else 1 if k % 10 in (2, 5, 9) else 0 for k in range(40)]
    data = write_dataset(tmp_path / "d", SHAPES * 4, labels)
    names = list(input_table(data).image)
    n, k = 40, 3
    pairs = dataset_pairs(data, "mixup", 1, "cross-class", copies=k)
    bad = 7  # of class 2 (4 images): cross-class rows of classes 0 and 1 (36) draw it often
    (data / "train" / names[bad]).write_bytes(b"")
    flags = ("--pairing", "cross-class", "--seed", "1", "--format", "png", "--skip-bad", "--copies", k, "--keep-originals", "-q")
    invoke_ok("mixup", data, tmp_path / "w1", *flags, "--workers", "1")
    invoke_ok("mixup", data, tmp_path / "w3", *flags, "--workers", "3")
    assert out_files(tmp_path / "w3") == out_files(tmp_path / "w1")
    df = read_out(tmp_path / "w1")
    kept = [i for i in range(n) if i != bad]
    assert df.source_a.tolist() == [names[i] for i in kept] * (k + 1)
    through = 0
    for c in range(k):
        for pos, i in enumerate(kept):
            r = next(df.iloc[[c * len(kept) + pos]].itertuples())
            if bad in pairs[c * n + i]:
                assert r.op == "none" and text(r.sources) == names[i] and r.lam == 1.0, (c, i)
                through += 1
            else:
                assert r.op == "mixup" and text(r.sources).split(";") == [names[i], names[pairs[c * n + i][0]]], (c, i)
            row_pixels(data, tmp_path / "w1", r)
    assert through >= 3
    assert list(pd.read_csv(tmp_path / "w1" / "skipped.csv", keep_default_na=False).image) == [names[bad]]


def test_a_bad_drawn_partner_without_skip_bad_stops_with_one_line(tmp_path):
    labels = [2 if k % 10 == 7 else 1 if k % 10 in (2, 5, 9) else 0 for k in range(40)]
    data = write_dataset(tmp_path / "d", SHAPES * 4, labels)
    (data / "train" / "img007.png").write_bytes(b"")  # of class 2 (4 images): balanced draws it for many rows
    assert_one_line_error(invoke("mixup", data, tmp_path / "o", "--pairing", "balanced", "--seed", "3"), 1, "img007.png")
    assert not (tmp_path / "o" / "train.csv").exists()


# ---------------------------------------------------------------- 5. errors


def _one_class(tmp_path):
    return write_dataset(tmp_path / "d", [(8, 8)] * 4, ["a"] * 4)


def _multi_all(tmp_path):
    data = write_dataset(tmp_path / "d", [(8, 8)] * 4, ["x"] * 4)
    (data / "train.csv").write_text("image,label\nimg000.png,a\nimg001.png,b\nimg002.png,a|b\nimg003.png,b\n")
    return data


def _yolo(tmp_path):
    make_dataset(tmp_path / "d", "yolo", seed=0, n=6)
    return tmp_path / "d"


def _coco(tmp_path):
    make_dataset(tmp_path / "d", "coco", seed=0, n=6)
    return tmp_path / "d"


ERRORS = {  # name: (dataset, args, exit code, words)
    "cross-class, one class": (_one_class, ["mixup", "--pairing", "cross-class"], 1, ["cross-class", "class 'a'"]),
    "cross-class, mosaic, one class": (_one_class, ["mosaic", "--pairing", "cross-class"], 1, ["cross-class"]),
    "cross-class, a row sharing every class": (_multi_all, ["mixup", "--pairing", "cross-class", "--label-sep", "|"], 1, ["img002.png"]),
    "pairing with cutout": (None, ["cutout", "--pairing", "balanced"], 2, ["--pairing", "cutout"]),
    "cross-class with cutout": (None, ["cutout", "--pairing", "cross-class"], 2, ["--pairing"]),
    "unknown pairing": (None, ["mixup", "--pairing", "nearest"], 2, ["--pairing"]),
    "remix with mosaic": (None, ["mosaic", "--remix", "3", "0.5"], 2, ["--remix", "mosaic"]),
    "remix with cutout": (None, ["cutout", "--remix", "3", "0.5"], 2, ["--remix"]),
    "remix kappa < 1": (None, ["mixup", "--remix", "0.5", "0.5"], 2, ["--remix", "KAPPA"]),
    "remix tau > 1": (None, ["mixup", "--remix", "3", "1.5"], 2, ["--remix", "TAU"]),
    "remix tau < 0": (None, ["cutmix", "--remix", "3", "-0.1"], 2, ["--remix", "TAU"]),
    "remix with label-sep": (None, ["mixup", "--remix", "3", "0.5", "--label-sep", "|"], 2, ["--remix", "--label-sep"]),
    "balanced with yolo": (_yolo, ["mixup", "--pairing", "balanced", "--layout", "yolo"], 2, ["--pairing", "yolo"]),
    "remix with yolo": (_yolo, ["cutmix", "--remix", "3", "0.5", "--layout", "yolo"], 2, ["--remix", "yolo"]),
    "cross-class with coco": (_coco, ["mosaic", "--pairing", "cross-class", "--layout", "coco"], 2, ["--pairing", "coco"]),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_pairing_and_remix_options_are_one_line_errors(case, small_data, tmp_path):
    make, args, code, words = ERRORS[case]
    data = make(tmp_path) if make else small_data
    out = tmp_path / "out"
    assert_one_line_error(invoke(args[0], data, out, *args[1:]), code, *words)
    assert not out.exists()
    assert_one_line_error(invoke(args[0], data, out, *args[1:], "--dry-run"), code, *words)
    assert not out.exists()

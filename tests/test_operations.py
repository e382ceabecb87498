"""The operations beyond mixup and cutmix (mix, resizemix, mosaic, fmix, cutout), end to end with
real files: every lossless output re-derived pixel for pixel from its CSV row and the source files
by an independent reference written from the README's formulas, the label columns, the
distributions of what is drawn, determinism, numba vs NumPy, --resume after SIGKILL, --skip-bad,
usage errors and --help.
"""

import dataclasses
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from conftest import out_files, write_dataset
from mixcli.cli import app
from mixcli.job import Job
from mixcli.pixels.codec import read_image
from mixcli.operations import REGISTRY
from mixcli.runner import run
from mixcli.plan import make_plan
from test_reliability import _big_data as reliability_data

OPS = ["mix", "resizemix", "mosaic", "fmix", "cutout"]
PARTNERS = {"mix": 1, "resizemix": 1, "mosaic": 3, "fmix": 1, "cutout": 0}
# Non-square sizes, each also transposed, and odd sides: partners are resized, H and W differ.
SHAPES = [(24, 40), (40, 24), (17, 33), (32, 32), (9, 50), (50, 9), (21, 13), (13, 21), (30, 45), (8, 8)]
BOX = ["x1", "y1", "x2", "y2"]
TEXT_COLUMNS = {c: str for c in ("image", "source_a", "source_b", "sources", "weights", "boxes", "mask")}
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def data20(tmp_path) -> Path:
    """20 PNG images of mixed sizes in 3 int classes: cycles of 16 and 4 rows."""
    return write_dataset(tmp_path / "data", SHAPES * 2, [k % 3 for k in range(20)])


def read_out(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "train.csv", keep_default_na=False, na_values=[""], dtype=TEXT_COLUMNS)


def _run(op, data, out, **kw) -> pd.DataFrame:
    run(Job.make(op, data, out, **kw), progress=False)
    return read_out(out)


def text(v) -> str:
    return "" if isinstance(v, float) and math.isnan(v) else str(v)


def parse_boxes(v) -> list[tuple[int, int, int, int]]:
    """`boxes` as (x1, y1, x2, y2) tuples."""
    s = text(v)
    return [tuple(int(t) for t in b.split()) for b in s.split(";")] if s else []


# ---------------------------------------------------------------- the reference, from the README


def ref_resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """cv2.resize to w x h: INTER_AREA when the target has fewer pixels than img, else INTER_LINEAR."""
    if img.shape[:2] == (h, w):
        return img
    interp = cv2.INTER_AREA if w * h < img.shape[0] * img.shape[1] else cv2.INTER_LINEAR
    return cv2.resize(img, (w, h), interpolation=interp)


def ref_blend(a: np.ndarray, b: np.ndarray, lam: float) -> np.ndarray:
    """uint8(float32(A)*float32(lam) + float32(B)*(1-float32(lam)) + 0.5)."""
    l32 = np.float32(lam)
    x = a.astype(np.float32) * l32 + b.astype(np.float32) * (np.float32(1.0) - l32) + np.float32(0.5)
    return x.astype(np.uint8)


def centred(lo: int, hi: int, n: int, cut: int) -> int:
    """The centre c in 0..n-1 of a clipped box [clip(c - cut//2), clip(c + cut//2)) that is [lo, hi)."""
    half = cut // 2
    assert 0 <= lo <= hi <= n
    if lo > 0:
        c = lo + half
    elif hi < n:
        c = hi - half
    else:
        assert 2 * half >= n, (lo, hi, n, cut)
        return -1
    assert 0 <= c < n, (lo, hi, n, cut)
    assert (lo, hi) == (min(max(c - half, 0), n), min(max(c + half, 0), n)), (lo, hi, n, cut)
    return c


def hole_centre(lo: int, hi: int, n: int, s: int) -> int:
    """The centre c in 0..n-1 of a hole [c - s//2, c - s//2 + s) clipped to [0, n) that is [lo, hi)."""
    assert 0 <= lo <= hi <= n
    if lo > 0:
        y0 = lo
    elif hi < n:
        y0 = hi - s
    else:
        assert s >= n, (lo, hi, n, s)
        return -1
    c = y0 + s // 2
    assert 0 <= c < n, (lo, hi, n, s)
    assert (lo, hi) == (max(y0, 0), min(y0 + s, n)), (lo, hi, n, s)
    return c


def expected_partners(plan, i: int, count: int, bad: set) -> list[int] | None:
    """The next `count` rows of row i's cycle whose images are good, or None if too few are."""
    chunk = next(c for c in plan.chunks if i in c).tolist()
    p, m = chunk.index(i), len(chunk)
    good = [chunk[(p + s) % m] for s in range(1, m) if chunk[(p + s) % m] not in bad][:count]
    return good if len(good) == count else None


def verify(data: Path, out: Path, op: str, params=None, *, prob=1.0, seed=0, size=None, eps=0.0, bad=(), rows=None) -> pd.DataFrame:
    """Assert that every row of OUT/train.csv (or the rows listed) is what the README says, from
    the plan's draws, the source files and an independent reference; return the table.

    bad: input image names that cannot be decoded (skipped with --skip-bad)."""
    table = pd.read_csv(data / "train.csv", keep_default_na=False, dtype=str)
    names, labels = list(table.image), [int(v) for v in table.label]
    classes = sorted(set(labels))
    operation = REGISTRY[op](**(params or {}))
    p = dataclasses.asdict(operation)
    plan = make_plan(len(names), operation, prob, seed)
    bad_rows = {i for i, name in enumerate(names) if name in set(bad)}
    kept = [i for i in range(len(names)) if i not in bad_rows]
    df = read_out(out)
    assert list(df.columns) == ["image", "label", *[f"p_{c}" for c in classes], "op", "source_a", "source_b", "lam", *BOX, "sources", "weights", "boxes", "mask"]
    assert len(df) == len(kept) and list(df.source_a) == [names[i] for i in kept]
    assert {f"images/{q.name}" for q in (out / "images").iterdir()} == set(df.image)
    masks = {text(m) for m in df["mask"]} - {""}
    on_disk = {f"masks/{q.name}" for q in (out / "masks").iterdir()} if (out / "masks").is_dir() else set()
    assert masks == on_disk
    decoded: dict[str, np.ndarray] = {}

    def image(name: str) -> np.ndarray:
        if name not in decoded:
            decoded[name] = read_image(data / "train" / name, size)
        return decoded[name]

    def onehot(name: str) -> np.ndarray:
        y = np.zeros(len(classes))
        y[classes.index(labels[names.index(name)])] = 1.0
        return (1 - eps) * y + eps / len(classes)

    for r, i in zip(df.itertuples(), kept):
        if rows is not None and i not in rows:
            continue
        where = f"row {i} ({r.image}, {r.op})"
        sources = text(r.sources).split(";")
        weights = [float(w) for w in text(r.weights).split(";")]
        boxes = parse_boxes(r.boxes)
        a = image(names[i])
        h, w = a.shape[:2]
        got = read_image(out / r.image)
        assert got.shape == a.shape, where
        partners = expected_partners(plan, i, PARTNERS[op], bad_rows) if plan.mixed[i] else None
        if partners is None:
            want_op = "none"
        elif op == "mix":
            want_op = "cutmix" if plan.draws["cut"][i] else "mixup"
        else:
            want_op = op
        assert r.op == want_op, where
        # The label columns.
        assert sources == [names[i]] + [names[j] for j in (partners or [])], where
        assert len(weights) == len(sources) and all(0 <= x <= 1 for x in weights), where
        assert abs(sum(weights) - 1) <= 1e-12, where
        assert r.lam == weights[0], where
        assert text(r.source_b) == (sources[1] if len(sources) > 1 else ""), where
        y = sum(wk * onehot(s) for wk, s in zip(weights, sources))
        got_p = np.array([getattr(r, f"p_{c}") for c in classes], float)
        np.testing.assert_allclose(got_p, y, rtol=0, atol=1e-12, err_msg=where)
        assert got_p[classes.index(int(r.label))] == got_p.max(), where
        cols = [getattr(r, c) for c in BOX]
        if r.op in ("cutmix", "resizemix"):
            assert len(boxes) == 1 and tuple(int(v) for v in cols) == boxes[0], where
        else:
            assert all(pd.isna(v) for v in cols), where
        assert (text(r.mask) != "") == (r.op == "fmix"), where
        for x1, y1, x2, y2 in boxes:
            assert 0 <= x1 <= x2 <= w and 0 <= y1 <= y2 <= h, where
        # The pixels.
        if r.op == "none":
            assert weights == [1.0] and boxes == [], where
            want = a
            if size is None:
                assert (out / r.image).read_bytes() == (data / "train" / names[i]).read_bytes(), where
        elif r.op == "mixup":
            lam = float(plan.draws["lam"][i])
            assert weights[0] == lam and boxes == [], where
            want = ref_blend(a, ref_resize(image(sources[1]), w, h), lam)
        elif r.op == "cutmix":
            lam = float(plan.draws["lam"][i])
            x1, y1, x2, y2 = boxes[0]
            if p["minmax"] is None:
                cut = math.sqrt(1 - lam)
                centred(y1, y2, h, int(h * cut))
                centred(x1, x2, w, int(w * cut))
            else:
                lo, hi = p["minmax"]
                assert int(h * lo) <= y2 - y1 <= int(h * hi) and int(w * lo) <= x2 - x1 <= int(w * hi), where
            area = 1 - (y2 - y1) * (x2 - x1) / (h * w)
            assert weights[0] == (area if p["correct_lam"] or p["minmax"] is not None else lam), where
            want = a.copy()
            want[y1:y2, x1:x2] = ref_resize(image(sources[1]), w, h)[y1:y2, x1:x2]
        elif r.op == "resizemix":
            tau = float(plan.draws["tau"][i])
            assert p["scale_min"] <= tau <= p["scale_max"]
            x1, y1, x2, y2 = boxes[0]
            centred(y1, y2, h, int(h * tau))
            centred(x1, x2, w, int(w * tau))
            assert weights[0] == 1 - (y2 - y1) * (x2 - x1) / (h * w), where
            want = a.copy()
            if x2 > x1 and y2 > y1:
                want[y1:y2, x1:x2] = ref_resize(image(sources[1]), x2 - x1, y2 - y1)
        elif r.op == "mosaic":
            assert len(boxes) == 4, where
            cx, cy = boxes[0][2], boxes[0][3]
            assert boxes == [(0, 0, cx, cy), (cx, 0, w, cy), (0, cy, cx, h), (cx, cy, w, h)], where
            lo, hi = p["offset"]
            assert int(w * lo) <= cx <= int(w * hi) and int(h * lo) <= cy <= int(h * hi), where
            want = np.zeros_like(a)
            for s, (x1, y1, x2, y2), wk in zip(sources, boxes, weights):
                assert wk == (x2 - x1) * (y2 - y1) / (w * h), where
                if x2 > x1 and y2 > y1:
                    want[y1:y2, x1:x2] = ref_resize(image(s), x2 - x1, y2 - y1)
        elif r.op == "fmix":
            assert boxes == [] and text(r.mask).startswith("masks/"), where
            mask = cv2.imread(str(out / r.mask), cv2.IMREAD_UNCHANGED)
            assert mask.dtype == np.uint8 and mask.shape == (h, w), where
            assert set(np.unique(mask).tolist()) <= {0, 255}, where
            count = int(np.count_nonzero(mask == 255))
            assert count == round((1 - float(plan.draws["lam"][i])) * h * w), where
            assert weights[0] == 1 - (mask == 255).mean() == 1 - count / (h * w), where
            want = np.where((mask == 255)[:, :, None], ref_resize(image(sources[1]), w, h), a)
        elif r.op == "cutout":
            assert weights == [1.0] and text(r.source_b) == "", where
            assert len(boxes) == p["holes"], where
            s = int(p["hole_size"] * min(h, w))
            want = a.copy()
            for x1, y1, x2, y2 in boxes:
                hole_centre(y1, y2, h, s)
                hole_centre(x1, x2, w, s)
                want[y1:y2, x1:x2] = p["fill"]
        else:
            raise AssertionError(f"unexpected op {r.op}")
        np.testing.assert_array_equal(got, want, err_msg=where)
    return df


# ---------------------------------------------------------------- 1, 2: pixels and labels

CASES = [
    ("mix", {}, None, 0.8, 0.0),
    ("mix", {"switch_prob": 0.5, "mixup_alpha": 0.3, "cutmix_alpha": 2.0, "correct_lam": False}, (19, 14), 1.0, 0.1),
    ("mix", {"minmax": (0.2, 0.6)}, None, 1.0, 0.0),
    ("mix", {"mixup_alpha": 0.0}, None, 1.0, 0.0),
    ("mix", {"cutmix_alpha": 0.0}, None, 1.0, 0.0),
    ("resizemix", {}, None, 0.75, 0.1),
    ("resizemix", {"scale_min": 0.5, "scale_max": 1.0}, (20, 14), 1.0, 0.0),
    ("mosaic", {}, None, 0.8, 0.0),
    ("mosaic", {"offset": (0.1, 0.9)}, (23, 17), 1.0, 0.1),
    ("mosaic", {"offset": (0.0, 1.0)}, None, 1.0, 0.0),
    ("fmix", {}, None, 0.8, 0.0),
    ("fmix", {"alpha": 0.5, "decay_power": 1.5}, (20, 14), 1.0, 0.1),
    ("cutout", {}, None, 0.8, 0.0),
    ("cutout", {"holes": 4, "hole_size": 0.3, "fill": 200}, (23, 17), 1.0, 0.1),
    ("cutout", {"holes": 2, "hole_size": 1.0, "fill": 255}, None, 1.0, 0.0),
]


@pytest.mark.parametrize("op, params, size, prob, eps", CASES, ids=[f"{c[0]}-{k}" for k, c in enumerate(CASES)])
def test_outputs_are_re_derived_from_the_csv_and_the_sources(data20, tmp_path, op, params, size, prob, eps):
    out = tmp_path / "out"
    summary = run(Job.make(op, data20, out, seed=3, prob=prob, fmt="png", size=size, label_smoothing=eps, workers=2, **params), progress=False)
    df = verify(data20, out, op, params, prob=prob, seed=3, size=size, eps=eps)
    mixed = df[df.op != "none"]
    assert summary["rows"] == 20 and summary["none"] == (df.op == "none").sum()
    assert sum(summary[o] for o in ("mixup", "cutmix", op)) == len(mixed)
    assert len(mixed) >= 10
    if prob < 1:
        assert (df.op == "none").any()
    if op == "mix" and params.get("mixup_alpha") == 0.0:
        assert set(df.op) == {"cutmix"}
    elif op == "mix" and params.get("cutmix_alpha") == 0.0:
        assert set(df.op) == {"mixup"}
    elif op == "mix":
        assert {"mixup", "cutmix"} <= set(df.op)
    if size is not None:
        assert all(read_image(out / name).shape == (size[1], size[0], 3) for name in df.image)
    if op == "fmix":
        assert len(list((out / "masks").iterdir())) == len(mixed)
    if op == "cutout":  # labels unchanged
        assert (df.lam[df.op == "cutout"] == 1.0).all()


@pytest.mark.parametrize("op, flags, params", [
    ("mix", ["--switch-prob", "0.7", "--mixup-alpha", "0.5", "--cutmix-alpha", "2", "--no-correct-lam"],
     {"switch_prob": 0.7, "mixup_alpha": 0.5, "cutmix_alpha": 2.0, "correct_lam": False}),
    ("mix", ["--minmax", "0.3", "0.5"], {"minmax": (0.3, 0.5)}),
    ("resizemix", ["--scale-min", "0.3", "--scale-max", "0.6"], {"scale_min": 0.3, "scale_max": 0.6}),
    ("mosaic", ["--offset", "0.4", "0.6"], {"offset": (0.4, 0.6)}),
    ("fmix", ["--alpha", "0.4", "--decay-power", "2"], {"alpha": 0.4, "decay_power": 2.0}),
    ("cutout", ["--holes", "3", "--hole-size", "0.25", "--fill", "128"], {"holes": 3, "hole_size": 0.25, "fill": 128}),
])
def test_command_line_options_reach_the_operation(data20, tmp_path, op, flags, params):
    out = tmp_path / "out"
    result = invoke(op, data20, out, *flags, "--format", "png", "--seed", "5", "--prob", "0.9", "--size", "21x15", "-q")
    assert result.exit_code == 0, result.output
    verify(data20, out, op, params, prob=0.9, seed=5, size=(21, 15))


def test_mosaic_centre_at_the_corners_leaves_three_quadrants_empty(tmp_path):
    data = write_dataset(tmp_path / "d", [(10, 14), (6, 9), (12, 7), (9, 11)], [0, 1, 2, 0])
    for offset in ((0.0, 0.0), (1.0, 1.0)):
        out = tmp_path / f"o{offset[0]}"
        df = _run("mosaic", data, out, offset=offset, fmt="png")
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


def test_cutout_of_size_zero_changes_no_pixel_but_lists_every_hole(data20, tmp_path):
    out = tmp_path / "out"
    df = _run("cutout", data20, out, holes=3, hole_size=0.0, fill=255, fmt="png")
    verify(data20, out, "cutout", {"holes": 3, "hole_size": 0.0, "fill": 255})
    for r in df.itertuples():
        boxes = parse_boxes(r.boxes)
        assert len(boxes) == 3 and all(x1 == x2 and y1 == y2 for x1, y1, x2, y2 in boxes)
        np.testing.assert_array_equal(read_image(out / r.image), read_image(data20 / "train" / r.source_a))


@pytest.mark.parametrize("first, second", [("mosaic", "fmix"), ("cutout", "resizemix"), ("fmix", "mix")])
def test_an_output_is_a_dataset_for_the_next_operation(data20, tmp_path, first, second):
    one = _run(first, data20, tmp_path / "one", seed=1, fmt="png")
    two = _run(second, tmp_path / "one", tmp_path / "two", seed=2, fmt="png")
    cols = ["p_0", "p_1", "p_2"]
    soft = one.set_index("image")[cols]
    assert (two.op != "none").all()
    for r in two.itertuples():
        weights = [float(x) for x in r.weights.split(";")]
        want = sum(wk * soft.loc[s].to_numpy(float) for wk, s in zip(weights, r.sources.split(";")))
        np.testing.assert_allclose(two.loc[r.Index, cols].to_numpy(float), want, rtol=0, atol=1e-12)
        assert (tmp_path / "two" / r.image).is_file()


# ---------------------------------------------------------------- 3: distributions


def plan_of(n, op, prob=1.0, seed=0, **params):
    return make_plan(n, REGISTRY[op](**params), prob, seed)


@pytest.mark.parametrize("switch, mixup_alpha, cutmix_alpha", [(0.5, 0.8, 1.0), (0.3, 0.4, 2.0)])
def test_mix_switch_share_and_lams(switch, mixup_alpha, cutmix_alpha):
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


def test_mix_alpha_zero_turns_that_operation_off():
    n = 5000
    only_cut = plan_of(n, "mix", seed=2, mixup_alpha=0.0, cutmix_alpha=0.5)
    assert only_cut.draws["cut"].all()
    assert stats.kstest(only_cut.draws["lam"], stats.beta(0.5, 0.5).cdf).pvalue > 1e-3
    only_mixup = plan_of(n, "mix", seed=2, mixup_alpha=0.5, cutmix_alpha=0.0)
    assert not only_mixup.draws["cut"].any()
    assert stats.kstest(only_mixup.draws["lam"], stats.beta(0.5, 0.5).cdf).pvalue > 1e-3
    with pytest.raises(Exception, match="both 0"):
        Job.make("mix", ".", "o", mixup_alpha=0.0, cutmix_alpha=0.0).validate()


@pytest.mark.parametrize("lo, hi", [(0.1, 0.8), (0.3, 0.5)])
def test_resizemix_tau_is_uniform_in_its_range(lo, hi):
    params = {} if (lo, hi) == (0.1, 0.8) else {"scale_min": lo, "scale_max": hi}
    tau = plan_of(20000, "resizemix", seed=4, **params).draws["tau"]
    assert tau.min() >= lo and tau.max() <= hi
    assert stats.kstest(tau, stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3
    assert stats.kstest(tau, stats.uniform(lo, hi - lo + 0.02).cdf).pvalue < 1e-3


def _many_rows(root: Path, shape, n: int, files=8) -> Path:
    """A dataset of n rows that reuse `files` images of one shape (few files, many rows)."""
    data = write_dataset(root, [shape] * files, [k % 2 for k in range(files)])
    rows = [(f"img{k % files:03d}.png", k % 2) for k in range(n)]
    (data / "train.csv").write_text("image,label\n" + "".join(f"{a},{b}\n" for a, b in rows))
    return data


def test_mosaic_centre_is_uniform_over_the_inclusive_range(tmp_path):
    h, w, n, offset = 9, 12, 1200, (0.2, 0.9)
    data = _many_rows(tmp_path / "d", (h, w), n)
    out = tmp_path / "o"
    df = _run("mosaic", data, out, offset=offset, seed=8, fmt="png")
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


@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_fmix_drawn_lam_follows_beta(alpha):
    params = {} if alpha == 1.0 else {"alpha": alpha}
    lam = plan_of(20000, "fmix", seed=6, **params).draws["lam"]
    assert stats.kstest(lam, stats.beta(alpha, alpha).cdf).pvalue > 1e-3
    other = 3.0
    assert stats.kstest(lam, stats.beta(other, other).cdf).pvalue < 1e-6


def test_fmix_mask_count_and_lam_are_exact_and_masks_are_low_frequency(tmp_path):
    h, w, n = 40, 64, 120
    data = _many_rows(tmp_path / "d", (h, w), n)
    out = tmp_path / "o"
    df = _run("fmix", data, out, seed=10, fmt="png")
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
def test_fmix_large_decay_power_still_gives_the_drawn_count(tmp_path, decay_power):
    # A spectrum scaled by 1/f^P in absolute terms overflowed float32 from P ~ 28 (NaN noise, empty masks).
    data = write_dataset(tmp_path / "d", [(30, 40)] * 4, [0, 1, 2, 0])
    out = tmp_path / "o"
    df = _run("fmix", data, out, seed=1, fmt="png", decay_power=decay_power)
    for r in df.itertuples():
        mask = cv2.imread(str(out / r.mask), cv2.IMREAD_UNCHANGED) == 255
        assert r.lam == 1 - mask.mean(), (r.lam, mask.mean())
    verify(data, out, "fmix", {"decay_power": decay_power}, seed=1)


def test_cutout_hole_centres_are_uniform_and_sides_exact(tmp_path):
    h, w, n, holes = 7, 10, 600, 3
    data = _many_rows(tmp_path / "d", (h, w), n)
    out = tmp_path / "o"
    df = _run("cutout", data, out, holes=holes, hole_size=0.5, fill=9, seed=12, fmt="png")
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


# ---------------------------------------------------------------- 4, 5: determinism and kernels


@pytest.mark.parametrize("op", OPS)
def test_same_seed_same_bytes_whatever_the_workers(data20, tmp_path, op):
    for workers in (1, 2, 3):
        run(Job.make(op, data20, tmp_path / f"w{workers}", seed=7, prob=0.7, fmt="png", workers=workers), progress=False)
    first = out_files(tmp_path / "w1")
    assert first == out_files(tmp_path / "w2") == out_files(tmp_path / "w3")
    if op == "fmix":
        assert any(name.startswith("masks/") for name in first)
    run(Job.make(op, data20, tmp_path / "other", seed=8, prob=0.7, fmt="png", workers=2), progress=False)
    other = out_files(tmp_path / "other")
    images = [k for k in first if k.startswith("images/")]
    assert sum(first[k] != other[k] for k in images) > len(images) // 3


@pytest.mark.parametrize("op", OPS)
def test_numba_and_numpy_paths_write_the_same_bytes(data20, tmp_path, monkeypatch, op):
    from mixcli.pixels import checked as ops

    loaded = ops.load_kernels()
    summaries = {}
    for path, threshold in (("numpy", 10**9), ("numba", 1)):
        monkeypatch.setattr(ops, "_kernels", None)
        monkeypatch.setattr(ops, "WORTH_LOADING", threshold)
        summaries[path] = run(Job.make(op, data20, tmp_path / path, seed=12, prob=0.8, fmt="png"), progress=False)
    monkeypatch.setattr(ops, "_kernels", loaded)
    assert summaries["numpy"]["kernels"] == "numpy" and summaries["numba"]["kernels"] == "numba"
    assert out_files(tmp_path / "numpy") == out_files(tmp_path / "numba")


# ---------------------------------------------------------------- 6: --resume after SIGKILL


def _big_data(root: Path, n=240) -> Path:
    """n JPEGs of two sizes (200x150 and 160x200): partners are resized, and there is enough work to kill half-way."""
    return reliability_data(root, n, shapes=((200, 150), (160, 200)))


def _mixcli(op, data, out, *args):
    return [sys.executable, "-m", "mixcli", op, str(data), str(out), "--quality", "90", "--prob", "0.9", *args]


def _wait_for_journal(out: Path, proc, lines=2, timeout=120) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:  # finished chunks in the shards' journals
        if sum(j.read_text().count("\n") for j in (out / ".mixcli" / "shards").glob("*.journal")) >= lines:
            return True
        time.sleep(0.005)
    return False


@pytest.mark.parametrize("op", ["mosaic", "fmix"])
def test_sigkill_then_resume_gives_the_same_bytes(tmp_path, op):
    data = _big_data(tmp_path)
    ref = tmp_path / "ref"
    assert subprocess.run(_mixcli(op, data, ref, "-q"), timeout=300).returncode == 0
    out = tmp_path / "out"
    proc = subprocess.Popen(_mixcli(op, data, out, "--workers", "1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert _wait_for_journal(out, proc), "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "train.csv").exists()
    done = [p for p in (out / "images").iterdir() if not p.name.startswith(".")]
    assert 0 < len(done) < 240
    masks = [p for p in (out / "masks").iterdir() if not p.name.startswith(".")] if op == "fmix" else []
    for p in done + masks:  # nothing truncated under a final name
        assert cv2.imread(str(p), cv2.IMREAD_UNCHANGED) is not None, p
    resumed = subprocess.run(_mixcli(op, data, out, "--resume", "--workers", "2"), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert out_files(out) == out_files(ref)
    df = read_out(out)
    assert len(df) == 240 and (df.op == op).sum() > 150


# ---------------------------------------------------------------- 7: --skip-bad


@pytest.mark.parametrize("op", OPS)
def test_skip_bad_drops_a_corrupt_image_and_the_rest_is_right(data20, tmp_path, op):
    bad = "img005.png"
    (data20 / "train" / bad).write_text("I am not a PNG, only text\n")
    result = invoke(op, data20, tmp_path / "stop", "--format", "png")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mixcli: error:") and bad in lines[0], result.stderr
    out = tmp_path / "out"
    summary = run(Job.make(op, data20, out, seed=4, fmt="png", skip_bad=True), progress=False)
    assert summary["skipped"] == 1 and summary["skipped_images"] == [bad]
    skipped = pd.read_csv(out / "skipped.csv", keep_default_na=False)
    assert list(skipped.image) == [bad] and skipped.error[0]
    df = verify(data20, out, op, seed=4, bad={bad})
    assert all(bad not in r.sources.split(";") for r in df.itertuples())
    assert (df.op != "none").sum() >= 15


def test_mosaic_skip_bad_passes_a_row_through_when_too_few_partners_are_good(tmp_path):
    data = write_dataset(tmp_path / "d", [(12, 16), (16, 12), (10, 10), (9, 14), (14, 9)], [0, 1, 2, 0, 1])
    bad = {"img001.png", "img003.png"}
    for name in bad:
        (data / "train" / name).write_bytes(b"text, not an image")
    out = tmp_path / "o"
    df = _run("mosaic", data, out, fmt="png", skip_bad=True)
    assert sorted(pd.read_csv(out / "skipped.csv").image) == sorted(bad)
    assert list(df.source_a) == ["img000.png", "img002.png", "img004.png"]
    assert (df.op == "none").all() and (df.lam == 1.0).all()
    verify(data, out, "mosaic", bad=bad)


# ---------------------------------------------------------------- 8, 9: errors and help

USAGE = [
    ("mix", ["--mixup-alpha", "0", "--cutmix-alpha", "0"], "--mixup-alpha"),
    ("mix", ["--mixup-alpha", "-0.5"], "--mixup-alpha"),
    ("mix", ["--cutmix-alpha", "nan"], "--cutmix-alpha"),
    ("mix", ["--switch-prob", "1.5"], "--switch-prob"),
    ("mix", ["--minmax", "0.6", "0.3"], "--minmax"),
    ("mix", ["--minmax", "0.2", "0.5", "--cutmix-alpha", "0"], "--minmax"),
    ("resizemix", ["--scale-min", "0.9", "--scale-max", "0.1"], "--scale-min"),
    ("resizemix", ["--scale-max", "1.5"], "--scale-max"),
    ("resizemix", ["--scale-min", "-0.1"], "--scale-min"),
    ("mosaic", ["--offset", "0.8", "0.2"], "--offset"),
    ("mosaic", ["--offset", "-0.1", "0.5"], "--offset"),
    ("mosaic", ["--offset", "0.5", "1.1"], "--offset"),
    ("mosaic", ["--offset", "nan", "0.5"], "--offset"),
    ("mosaic", ["--prob", "1.5"], "--prob"),
    ("fmix", ["--alpha", "0"], "--alpha"),
    ("fmix", ["--alpha", "inf"], "--alpha"),
    ("fmix", ["--decay-power", "0"], "--decay-power"),
    ("fmix", ["--decay-power", "-2"], "--decay-power"),
    ("fmix", ["--decay-power", "nan"], "--decay-power"),
    ("cutout", ["--holes", "0"], "--holes"),
    ("cutout", ["--fill", "300"], "--fill"),
    ("cutout", ["--fill", "-1"], "--fill"),
    ("cutout", ["--hole-size", "1.5"], "--hole-size"),
    ("cutout", ["--hole-size", "nan"], "--hole-size"),
]


@pytest.mark.parametrize("op, args, word", USAGE, ids=[f"{op}{' '.join(a)}" for op, a, _ in USAGE])
def test_bad_options_are_usage_errors(small_data, tmp_path, op, args, word):
    result = invoke(op, small_data, tmp_path / "o", *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mixcli: error:") and word in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_mosaic_needs_four_rows(tmp_path):
    data = write_dataset(tmp_path / "d", [(8, 9), (9, 8), (7, 7)], [0, 1, 0])
    result = invoke("mosaic", data, tmp_path / "o")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mixcli: error:") and "mosaic" in lines[0], result.stderr
    assert not (tmp_path / "o" / "train.csv").exists()
    # Four rows are enough, and every cycle of any larger dataset has at least four.
    data4 = write_dataset(tmp_path / "d4", [(8, 9), (9, 8), (7, 7), (6, 10)], [0, 1, 0, 1])
    assert invoke("mosaic", data4, tmp_path / "o4", "-q").exit_code == 0
    for n in range(4, 70):
        chunks = plan_of(n, "mosaic", seed=n).chunks
        assert min(len(c) for c in chunks) >= 4 and sum(len(c) for c in chunks) == n


OWN_OPTIONS = {
    "mix": ["--switch-prob", "--mixup-alpha", "--cutmix-alpha", "--minmax", "--correct-lam", "--no-correct-lam"],
    "resizemix": ["--scale-min", "--scale-max"],
    "mosaic": ["--offset"],
    "fmix": ["--alpha", "--decay-power"],
    "cutout": ["--holes", "--hole-size", "--fill"],
}
SHARED_OPTIONS = ["--prob", "--seed", "--workers", "--format", "--size", "--resume", "--skip-bad", "--label-smoothing", "--quality"]


def test_every_operation_is_in_help_with_its_options():
    result = invoke("--help")
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ") and line.split()}
    assert set(OPS) <= listed, result.stdout
    for op, own in OWN_OPTIONS.items():
        help_text = invoke(op, "--help")
        assert help_text.exit_code == 0, help_text.output
        for option in own + SHARED_OPTIONS:
            assert option in help_text.stdout, (op, option)

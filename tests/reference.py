"""An independent reference for the operations, written from the formulas of docs/operations.md:
`verify` re-derives every output row, pixel for pixel (lossless outputs), from its CSV row, the
plan's draws and the source files, and checks its label columns. The tests of each operation
(tests/test_op_*.py) and those about all of them (tests/test_operations.py) use it.
"""

import dataclasses
import math
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from conftest import invoke_ok, read_out, text
from mixcli.job import Job
from mixcli.operations import REGISTRY
from mixcli.pixels.codec import read_image
from mixcli.plan import make_plan
from mixcli.runner import run

PARTNERS = {"mixup": 1, "cutmix": 1, "mix": 1, "resizemix": 1, "mosaic": 3, "fmix": 1, "cutout": 0}
BOX = ["x1", "y1", "x2", "y2"]


def plan_of(n, op, prob=1.0, seed=0, **params):
    """The plan of a run of n rows of `op` with these options."""
    return make_plan(n, REGISTRY[op](**params), prob, seed)


def parse_boxes(v) -> list[tuple[int, int, int, int]]:
    """`boxes` as (x1, y1, x2, y2) tuples."""
    s = text(v)
    return [tuple(int(t) for t in b.split()) for b in s.split(";")] if s else []


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


def drawn_partners(pairs, i: int, bad: set) -> list[int] | None:
    """Row i's partners drawn by a --pairing, or None if one of their images is bad."""
    found = [int(j) for j in pairs[i]]
    return None if any(j in bad for j in found) else found


def verify(data: Path, out: Path, op: str, params=None, *, prob=1.0, seed=0, size=None, eps=0.0, bad=(), rows=None, pairs=None) -> pd.DataFrame:
    """Assert that every row of OUT/train.csv (or the rows listed) is what docs/operations.md
    says, from the plan's draws, the source files and this independent reference; return the table.

    bad: input image names that cannot be decoded (skipped with --skip-bad); pairs: the partners
    a --pairing drew ((rows, sources-1) input rows, as Plan.pairs of one copy), else (None) the
    next rows of each row's cycle. A row whose drawn partner is bad passes through."""
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
        if not plan.mixed[i]:
            partners = None
        elif pairs is not None:
            partners = drawn_partners(pairs, i, bad_rows)
        else:
            partners = expected_partners(plan, i, PARTNERS[op], bad_rows)
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


def run_and_verify(data: Path, out: Path, op: str, params: dict, size, prob: float, eps: float) -> pd.DataFrame:
    """Run `op` with these options on the 20-row dataset (conftest's data20: seed 3, PNG, 2 workers),
    verify every row, and check the summary's counts and what the options make visible; the table."""
    summary = run(Job.make(op, data, out, seed=3, prob=prob, fmt="png", size=size, label_smoothing=eps, workers=2, **params), progress=False)
    df = verify(data, out, op, params, prob=prob, seed=3, size=size, eps=eps)
    mixed = df[df.op != "none"]
    assert summary["rows"] == 20 and summary["none"] == (df.op == "none").sum()
    assert sum(summary[o] for o in {"mixup", "cutmix", op}) == len(mixed)
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
    return df


def options_reach_the_operation(data: Path, out: Path, op: str, flags: list[str], params: dict) -> None:
    """`mixcli OP` with these flags writes what the reference derives with these options (seed 5,
    --prob 0.9, --size 21x15, PNG)."""
    invoke_ok(op, data, out, *flags, "--format", "png", "--seed", "5", "--prob", "0.9", "--size", "21x15", "-q")
    verify(data, out, op, params, prob=0.9, seed=5, size=(21, 15))


def decoded_pair(data: Path, row) -> tuple[np.ndarray, np.ndarray]:
    """A mixup or cutmix row's source A and source B resized to A, decoded as mixcli decodes them."""
    a = read_image(data / "train" / row.source_a)
    b = read_image(data / "train" / row.source_b)
    return a, ref_resize(b, a.shape[1], a.shape[0])

"""End-to-end runs through mixcli.runner.run: pixels, labels and files on disk."""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from conftest import load, out_files, write_dataset
from mixcli.job import Job
from mixcli.pixels.codec import resize
from mixcli.runner import run

BOX = ["x1", "y1", "x2", "y2"]


def _run(op, data, out, **kw) -> pd.DataFrame:
    run(Job.make(op, data, out, **kw), progress=False)
    return pd.read_csv(out / "train.csv", keep_default_na=False, na_values=[""])


def _pair(data: Path, row) -> tuple[np.ndarray, np.ndarray]:
    """Source A and source B resized to A, decoded as mixcli decodes them."""
    a = load(data / "train" / row.source_a)
    b = load(data / "train" / row.source_b)
    return a, resize(b, (a.shape[1], a.shape[0]))


def test_mixup_pixels_are_the_blend_of_the_recorded_sources(small_data, tmp_path):
    out = tmp_path / "out"
    df = _run("mixup", small_data, out, fmt="png", alpha=0.4, seed=3)
    assert (df.op == "mixup").all()
    for row in df.itertuples():
        a, b = _pair(small_data, row)
        got = load(out / row.image)
        assert got.shape == a.shape
        want = row.lam * a.astype(np.float64) + (1 - row.lam) * b
        assert np.abs(got - want).max() <= 1.0, row.image
        assert pd.isna(row.x1)


def test_cutmix_pixels_come_from_b_inside_the_box_and_a_outside(small_data, tmp_path):
    out = tmp_path / "out"
    df = _run("cutmix", small_data, out, fmt="png", seed=5)
    assert (df.op == "cutmix").all()
    pasted = 0
    for row in df.itertuples():
        a, b = _pair(small_data, row)
        got = load(out / row.image)
        h, w = a.shape[:2]
        x1, y1, x2, y2 = (int(getattr(row, c)) for c in BOX)
        assert 0 <= y1 <= y2 <= h and 0 <= x1 <= x2 <= w
        inside = np.zeros((h, w), bool)
        inside[y1:y2, x1:x2] = True
        np.testing.assert_array_equal(got[inside], b[inside])
        np.testing.assert_array_equal(got[~inside], a[~inside])
        assert row.lam == 1 - (y2 - y1) * (x2 - x1) / (h * w)
        pasted += inside.any()
    assert pasted > len(df) // 2


def test_cutmix_without_correction_keeps_the_drawn_lam(small_data, tmp_path):
    corrected = _run("cutmix", small_data, tmp_path / "a", fmt="png", seed=1)
    drawn = _run("cutmix", small_data, tmp_path / "b", fmt="png", seed=1, correct_lam=False)
    assert (corrected[BOX] == drawn[BOX]).all().all()
    area = [1 - (r.y2 - r.y1) * (r.x2 - r.x1) / (load(tmp_path / "b" / r.image).size / 3) for r in drawn.itertuples()]
    assert not np.allclose(drawn.lam, area)
    np.testing.assert_allclose(corrected.lam, area)


def test_minmax_boxes_have_sides_in_range_and_lie_inside(tmp_path):
    data = write_dataset(tmp_path / "d", [(40, 100)] * 6, [0, 1, 2] * 2)
    df = _run("cutmix", data, tmp_path / "o", minmax=(0.25, 0.5), seed=2, fmt="png")
    hs, ws = df.y2 - df.y1, df.x2 - df.x1
    assert hs.between(10, 20).all() and ws.between(25, 50).all()
    assert (df.y2 <= 40).all() and (df.x2 <= 100).all() and (df.x1 >= 0).all()
    np.testing.assert_allclose(df.lam, 1 - hs * ws / 4000)


def test_soft_labels_mix_the_rows_labels_with_lam(small_data, tmp_path):
    eps = 0.1
    df = _run("mixup", small_data, tmp_path / "o", seed=4, label_smoothing=eps, prob=0.5)
    src = pd.read_csv(small_data / "train.csv")
    label_of = dict(zip(src.image, src.label))
    cols = ["p_0", "p_1", "p_2"]
    assert list(df.columns) == ["image", "label", *cols, "op", "source_a", "source_b", "lam", *BOX, "sources", "weights", "boxes", "mask"]
    for row in df.itertuples():
        y = np.full(3, eps / 3)
        y[label_of[row.source_a]] += (1 - eps) * row.lam
        if row.op == "none":
            assert row.lam == 1.0 and pd.isna(row.source_b)
        else:
            y[label_of[row.source_b]] += (1 - eps) * (1 - row.lam)
        np.testing.assert_allclose(df.loc[row.Index, cols].to_numpy(float), y, atol=1e-12)
        assert row.label == int(np.argmax(y))


def test_partner_is_never_the_row_itself(small_data, tmp_path):
    df = _run("mixup", small_data, tmp_path / "o", seed=9)
    assert (df.source_a != df.source_b).all()


def test_lams_follow_beta_and_mixed_share_follows_prob(tmp_path):
    n, alpha, prob = 3000, 0.2, 0.3
    data = write_dataset(tmp_path / "d", [(2, 3)] * 10, [0, 1] * 5)
    rows = [(f"img{k % 10:03d}.png", k % 2) for k in range(n)]
    (data / "train.csv").write_text("image,label\n" + "".join(f"{a},{b}\n" for a, b in rows))
    df = _run("mixup", data, tmp_path / "o", alpha=alpha, prob=prob, seed=11, fmt="png")
    mixed = df[df.op == "mixup"]
    assert stats.binomtest(len(mixed), n, prob).pvalue > 0.001
    assert stats.kstest(mixed.lam, stats.beta(alpha, alpha).cdf).pvalue > 0.001
    assert stats.kstest(mixed.lam, stats.beta(1.0, 1.0).cdf).pvalue < 1e-6


def test_same_seed_same_bytes_whatever_the_workers(small_data, tmp_path):
    for workers, name in ((1, "w1"), (2, "w2"), (3, "w3")):
        _run("cutmix", small_data, tmp_path / name, seed=7, workers=workers, prob=0.6)
    assert out_files(tmp_path / "w1") == out_files(tmp_path / "w2") == out_files(tmp_path / "w3")
    _run("cutmix", small_data, tmp_path / "other", seed=8, workers=2, prob=0.6)
    assert out_files(tmp_path / "other") != out_files(tmp_path / "w1")


def test_size_resizes_every_output(small_data, tmp_path):
    df = _run("mixup", small_data, tmp_path / "o", size=(20, 12), prob=0.5)
    for row in df.itertuples():
        assert load(tmp_path / "o" / row.image).shape == (12, 20, 3)


def test_pass_through_rows_are_copied_unchanged(small_data, tmp_path):
    df = _run("mixup", small_data, tmp_path / "o", prob=0.0, fmt="png")
    assert (df.op == "none").all()
    for row in df.itertuples():
        assert (tmp_path / "o" / row.image).read_bytes() == (small_data / "train" / row.source_a).read_bytes()


def test_output_is_a_dataset_for_the_next_run(small_data, tmp_path):
    first = _run("mixup", small_data, tmp_path / "one", seed=1, fmt="png")
    second = _run("cutmix", tmp_path / "one", tmp_path / "two", seed=2, fmt="png")
    cols = ["p_0", "p_1", "p_2"]
    by_image = first.set_index("image")[cols]
    for row in second.itertuples():
        want = row.lam * by_image.loc[row.source_a] + (1 - row.lam) * by_image.loc[row.source_b]
        np.testing.assert_allclose(second.loc[row.Index, cols].to_numpy(float), want.to_numpy(float), atol=1e-12)
    assert all((tmp_path / "two" / name).is_file() for name in second.image)


def test_output_names_are_unique_and_inside_out(tmp_path):
    names = ["a.png", "sub/a.png", "../x/a.png", "/abs/a.png", "c d é.png", "...png"]
    data = tmp_path / "d"
    (data / "sub").mkdir(parents=True)
    (tmp_path / "x").mkdir()
    (tmp_path / "abs").mkdir()
    write_dataset(data, [(4, 5)], [0], layout="flat")
    blob = (data / "img000.png").read_bytes()
    for name, path in zip(names, [data / "a.png", data / "sub/a.png", tmp_path / "x/a.png", tmp_path / "abs/a.png", data / "c d é.png", data / "...png"]):
        path.write_bytes(blob)
    names[3] = str(tmp_path / "abs/a.png")
    (data / "train.csv").write_text("image,label\n" + "".join(f"\"{n}\",{k % 2}\n" for k, n in enumerate(names)))
    df = _run("mixup", data, tmp_path / "o")
    assert df.image.is_unique
    out = (tmp_path / "o").resolve()
    for name in df.image:
        p = (tmp_path / "o" / name).resolve()
        assert out in p.parents and p.is_file()
    assert list(df.source_a) == names


def test_cutmix_box_sides_follow_rows_and_columns_on_non_square_images(tmp_path):
    h, w = 40, 100
    data = write_dataset(tmp_path / "d", [(h, w)] * 8, [0, 1] * 4)
    df = _run("cutmix", data, tmp_path / "o", correct_lam=False, seed=6, fmt="png")
    inner = 0
    for row in df.itertuples():
        r = np.sqrt(1 - row.lam)
        cut_h, cut_w = int(h * r), int(w * r)
        assert row.y2 - row.y1 <= cut_h and row.x2 - row.x1 <= cut_w
        if 0 < row.y1 and row.y2 < h:
            assert row.y2 - row.y1 == 2 * (cut_h // 2)
            inner += 1
        if 0 < row.x1 and row.x2 < w:
            assert row.x2 - row.x1 == 2 * (cut_w // 2)
            inner += 1
    assert inner > 0


def test_numba_and_numpy_paths_write_the_same_bytes(small_data, tmp_path, monkeypatch):
    from mixcli.pixels import checked as ops

    loaded = ops.load_kernels()
    summaries = {}
    for path, threshold in (("numpy", 10**9), ("numba", 1)):
        monkeypatch.setattr(ops, "_kernels", None)
        monkeypatch.setattr(ops, "WORTH_LOADING", threshold)
        for op in ("mixup", "cutmix"):
            out = tmp_path / f"{path}-{op}"
            summaries[path, op] = run(Job.make(op, small_data, out, seed=12, prob=0.7), progress=False)
    monkeypatch.setattr(ops, "_kernels", loaded)
    for op in ("mixup", "cutmix"):
        assert summaries["numpy", op]["kernels"] == "numpy" and summaries["numba", op]["kernels"] == "numba"
        assert out_files(tmp_path / f"numpy-{op}") == out_files(tmp_path / f"numba-{op}")

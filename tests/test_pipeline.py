"""End-to-end runs through mixcli.runner.run: labels, determinism, sizes and files on disk (each
operation's own pixels and draws: tests/test_op_*.py)."""

import numpy as np
import pandas as pd

from conftest import SHAPES, load, out_files, run_op, write_dataset
from mixcli.operations import REGISTRY
from mixcli.plan import make_plan

BOX = ["x1", "y1", "x2", "y2"]


def test_soft_labels_mix_the_rows_labels_with_lam(small_data, tmp_path):
    eps = 0.1
    df = run_op("mixup", small_data, tmp_path / "o", seed=4, label_smoothing=eps, prob=0.5)
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
    df = run_op("mixup", small_data, tmp_path / "o", seed=9)
    assert (df.source_a != df.source_b).all()


def test_same_seed_same_bytes_whatever_the_workers(tmp_path):
    # 80 rows: 5 chunks of 16 rows in 3 shards of 32 input rows, so 1, 2 and 3 workers share the
    # chunks out differently (a dataset of one chunk could not tell them apart).
    data = write_dataset(tmp_path / "d", [SHAPES[k % len(SHAPES)] for k in range(80)], [k % 3 for k in range(80)])
    for workers in (1, 2, 3):
        run_op("cutmix", data, tmp_path / f"w{workers}", seed=7, workers=workers, prob=0.6, shard_size=32)
    assert len(make_plan(80, REGISTRY["cutmix"](), 0.6, 7).chunks) == 5
    assert sorted(p.name for p in (tmp_path / "w3" / ".mixcli" / "shards").glob("*.json")) == ["000000.json", "000001.json", "000002.json"]
    assert out_files(tmp_path / "w1") == out_files(tmp_path / "w2") == out_files(tmp_path / "w3")
    run_op("cutmix", data, tmp_path / "other", seed=8, workers=2, prob=0.6, shard_size=32)
    assert out_files(tmp_path / "other") != out_files(tmp_path / "w1")


def test_size_resizes_every_output(small_data, tmp_path):
    df = run_op("mixup", small_data, tmp_path / "o", size=(20, 12), prob=0.5)
    for row in df.itertuples():
        assert load(tmp_path / "o" / row.image).shape == (12, 20, 3)


def test_pass_through_rows_are_copied_unchanged(small_data, tmp_path):
    df = run_op("mixup", small_data, tmp_path / "o", prob=0.0, fmt="png")
    assert (df.op == "none").all()
    for row in df.itertuples():
        assert (tmp_path / "o" / row.image).read_bytes() == (small_data / "train" / row.source_a).read_bytes()


def test_output_is_a_dataset_for_the_next_run(small_data, tmp_path):
    first = run_op("mixup", small_data, tmp_path / "one", seed=1, fmt="png")
    second = run_op("cutmix", tmp_path / "one", tmp_path / "two", seed=2, fmt="png")
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
    df = run_op("mixup", data, tmp_path / "o")
    assert df.image.is_unique
    out = (tmp_path / "o").resolve()
    for name in df.image:
        p = (tmp_path / "o" / name).resolve()
        assert out in p.parents and p.is_file()
    assert list(df.source_a) == names

"""--label-format sparse: one soft_label column of class:weight pairs instead of the p_<class> columns."""

import pandas as pd
import pytest

from conftest import visible_files as visible
from conftest import invoke, invoke_ok, write_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("d")
    return write_dataset(root, [(10 + k % 3, 12) for k in range(40)], [("cat", "dog", "emu", "yak", "owl")[k % 5] for k in range(40)])


def parse(value: str) -> dict:
    return {c: float(w) for c, _, w in (pair.rpartition(":") for pair in value.split(";"))}


@pytest.mark.parametrize("args", [["mixup", "--label-smoothing", "0.1"], ["mosaic", "--prob", "0.6"], ["cutmix", "--copies", "2"]])
def test_sparse_labels_are_the_dense_ones(data, tmp_path, args):
    for fmt in ("dense", "sparse"):
        invoke_ok(args[0], data, tmp_path / fmt, *args[1:], "--label-format", fmt, "--seed", "4", "-q")
    dense, sparse = (pd.read_csv(tmp_path / f / "train.csv", keep_default_na=False) for f in ("dense", "sparse"))
    p_cols = [c for c in dense.columns if c.startswith("p_")]
    assert list(sparse.columns) == ["image", "label", "soft_label"] + [c for c in dense.columns if c not in ("image", "label", *p_cols)]
    for k in range(len(dense)):
        expected = {c[2:]: dense.at[k, c] for c in p_cols if dense.at[k, c] != 0}
        assert parse(sparse.at[k, "soft_label"]) == expected
        assert list(parse(sparse.at[k, "soft_label"])) == [c for c in ("cat", "dog", "emu", "owl", "yak") if c in expected]  # class order
    assert (dense.drop(columns=p_cols) == sparse.drop(columns=["soft_label"])).all().all()
    assert {k: v for k, v in visible(tmp_path / "dense").items() if k != "train.csv"} == {k: v for k, v in visible(tmp_path / "sparse").items() if k != "train.csv"}


def test_a_sparse_output_chains_as_its_dense_twin(data, tmp_path):
    for fmt in ("dense", "sparse"):
        invoke_ok("cutmix", data, tmp_path / fmt, "--label-format", fmt, "--seed", "1", "-q")
        invoke_ok("mixup", tmp_path / fmt, tmp_path / f"{fmt}2", "--seed", "2", "-q")
    assert visible(tmp_path / "dense2") == visible(tmp_path / "sparse2")
    chained = pd.read_csv(tmp_path / "sparse2" / "train.csv")
    assert [c for c in chained.columns if c.startswith("p_")] == ["p_cat", "p_dog", "p_emu", "p_owl", "p_yak"]


def test_sparse_refuses_a_class_with_its_separator(tmp_path):
    d = write_dataset(tmp_path / "d", [(8, 8)] * 4, ["a;b", "c", "a;b", "c"])
    r = invoke("mixup", d, tmp_path / "o", "--label-format", "sparse")
    assert r.exit_code == 1 and r.stderr.count("\n") == 1 and "'a;b'" in r.stderr


def test_a_bad_soft_label_column_is_one_line(data, tmp_path):
    d = tmp_path / "d"
    (d / "train").mkdir(parents=True)
    for name in ("img000.png", "img001.png"):
        (d / "train" / name).write_bytes((data / "train" / name).read_bytes())
    (d / "train.csv").write_text("image,soft_label\nimg000.png,cat:0.5;dog\nimg001.png,cat:1\n")
    r = invoke("mixup", d, tmp_path / "o")
    assert r.exit_code == 1 and "soft_label must hold class:weight pairs" in r.stderr


def test_bad_label_format(data, tmp_path):
    r = invoke("mixup", data, tmp_path / "o", "--label-format", "csr")
    assert r.exit_code == 2 and "--label-format must be dense or sparse" in r.stderr

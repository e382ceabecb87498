"""--out-format webdataset: tar files read back by the `webdataset` package equal the files output."""

import json
import random

import pandas as pd
import pytest
import webdataset as wds

from conftest import visible_files as visible
from conftest import invoke, invoke_ok, write_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("d")
    return write_dataset(root, [(14 + k % 3, 12 + k % 5) for k in range(60)], [("cat", "dog", "owl")[k % 3] for k in range(60)])


def samples(out):
    tars = sorted(str(p) for p in (out / "shards").glob("*.tar"))
    return {s["__key__"]: s for s in wds.WebDataset(tars, shardshuffle=False, empty_check=False)}


@pytest.mark.parametrize("args", [
    ["mixup", "--copies", "2", "--keep-originals", "--label-smoothing", "0.1"],
    ["fmix", "--format", "png"],
    ["cutmix", "--label-format", "sparse", "--prob", "0.5"],
])
def test_webdataset_samples_are_the_files_output(data, tmp_path, args):
    common = [*args[1:], "--seed", "7", "--shard-size", "32", "-q"]
    invoke_ok(args[0], data, tmp_path / "files", *common)
    invoke_ok(args[0], data, tmp_path / "wds", *common, "--out-format", "webdataset", "--samples-per-tar", "20")
    files = pd.read_csv(tmp_path / "files" / "train.csv", keep_default_na=False, dtype=str)
    tars = pd.read_csv(tmp_path / "wds" / "train.csv", keep_default_na=False, dtype=str)
    assert not (tmp_path / "wds" / "images").exists() and not (tmp_path / "wds" / ".mixcli" / "stage").exists()
    assert (files.drop(columns=["image", "mask"]) == tars.drop(columns=["image", "mask"])).all().all()
    got = samples(tmp_path / "wds")
    assert len(got) == len(files)
    ext = "png" if "png" in args else "jpg"
    for k in range(len(files)):
        _, tar, member = tars.at[k, "image"].split("/", 2)
        key = member.rsplit(".", 1)[0]
        sample = got[key]
        assert sample["__url__"].endswith(tar)
        assert sample[ext] == (tmp_path / "files" / files.at[k, "image"]).read_bytes()  # the same bytes, so the same pixels
        record = json.loads(sample["json"])
        assert record["image"] == tars.at[k, "image"]
        for col in files.columns:
            if col in ("image", "mask"):
                continue
            value, text = record[col], files.at[k, col]
            if value is None:
                assert text == "", col
            elif isinstance(value, float):
                assert value == float(text), col
            else:
                assert str(value) == text, col
        if files.at[k, "mask"]:
            assert sample["mask.png"] == (tmp_path / "files" / files.at[k, "mask"]).read_bytes()
            assert tars.at[k, "mask"] == f"shards/{tar}/{key}.mask.png"


def test_tar_files_do_not_depend_on_shard_groups(data, tmp_path):
    common = ["--seed", "2", "--shard-size", "16", "--out-format", "webdataset", "--samples-per-tar", "10", "-q"]
    invoke_ok("mosaic", data, tmp_path / "local", *common)
    order = [2, 0, 1, 2]
    random.Random(0).shuffle(order)
    for i in order:
        invoke_ok("mosaic", data, tmp_path / "groups", *common, "--shards", f"{i}/3")
    invoke_ok("merge", tmp_path / "groups", "-q")
    assert visible(tmp_path / "groups") == visible(tmp_path / "local")
    assert sorted(p.name for p in (tmp_path / "local" / "shards").iterdir()) == [f"{t:06d}.tar" for t in range(8)]


def test_an_integer_class_is_a_number_in_the_json(tmp_path):
    data = write_dataset(tmp_path / "d", [(10, 12)] * 6, [3, 10, 3, 10, 3, 10])
    invoke_ok("mixup", data, tmp_path / "o", "--out-format", "webdataset", "-q")
    labels = {json.loads(s["json"])["label"] for s in samples(tmp_path / "o").values()}
    assert labels <= {3, 10} and labels


def test_webdataset_and_class_folders_exclude_each_other(data, tmp_path):
    r = invoke("mixup", data, tmp_path / "o", "--out-format", "webdataset", "--out-layout", "folders")
    assert r.exit_code == 2 and "exclude each other" in r.stderr


def test_a_dry_run_shows_the_rows_the_run_writes(data, tmp_path):
    common = ["--seed", "5", "--shard-size", "16", "--out-format", "webdataset", "--samples-per-tar", "7"]
    dry = invoke("cutmix", data, tmp_path / "o", *common, "-n")
    assert dry.exit_code == 0 and not (tmp_path / "o").exists()
    invoke_ok("cutmix", data, tmp_path / "o", *common, "-q")
    written = (tmp_path / "o" / "train.csv").read_text().splitlines()
    assert dry.stdout.splitlines() == written[:6] and written[1].startswith("shards/")

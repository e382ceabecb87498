"""Datasets as people have them: class folders, other column names, a CSV on stdin, multi-label."""

import shutil
import subprocess

import cv2
import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE_DATA, assert_one_line_error, invoke, invoke_ok, mixcli_command, out_files, write_dataset
from mixcli.data.dataset import load_dataset
from mixcli.errors import MixcliError, UsageError


def _png(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((6, 9, 3), value, np.uint8))


def _folders(root, layout):
    """cat/ (2 images, one nested), dog/ (1), plus things that are not images or are hidden."""
    _png(root / "cat" / "b.png", 10)
    _png(root / "cat" / "sub" / "a.PNG", 20)
    _png(root / "dog" / "x.png", 30)
    (root / "cat" / "notes.txt").write_text("not an image")
    _png(root / "cat" / ".hidden.png", 40)
    _png(root / ".cache" / "y.png", 50)
    return root


@pytest.mark.parametrize("layout", ["DATA", "DATA/train"])
def test_class_folders_are_read_when_there_is_no_csv(layout, tmp_path):
    data = tmp_path / "d"
    _folders(data / "train" if layout == "DATA/train" else data, layout)
    ds = load_dataset(data)
    assert ds.source is None and ds.images == ["cat/b.png", "cat/sub/a.PNG", "dog/x.png"]
    assert ds.classes == ["cat", "dog"] and np.asarray(ds.targets).tolist() == [[1, 0], [1, 0], [0, 1]]
    out = tmp_path / "o"
    invoke_ok("mixup", data, out, "--format", "png", "--json")
    df = pd.read_csv(out / "train.csv")
    assert df.source_a.tolist() == ds.images and list(df.columns[:4]) == ["image", "label", "p_cat", "p_dog"]
    for row in df.itertuples():
        a = cv2.imread(ds.root.where(row.source_a))
        b = cv2.imread(ds.root.where(row.source_b))
        want = (a.astype(np.float32) * np.float32(row.lam) + b.astype(np.float32) * (1 - np.float32(row.lam)) + 0.5).astype(np.uint8)
        np.testing.assert_array_equal(cv2.imread(str(out / row.image)), want)


def test_an_empty_class_folder_is_an_error_naming_it(tmp_path):
    data = _folders(tmp_path / "d", "DATA")
    (data / "bird").mkdir()
    (data / "bird" / "readme.md").write_text("x")
    assert_one_line_error(invoke("mixup", data, tmp_path / "o"), 1, f"class folder {data / 'bird'} holds no image")
    assert not (tmp_path / "o").exists()


def test_layout_option_forces_or_refuses(tmp_path, small_data):
    data = _folders(tmp_path / "d", "DATA")
    assert_one_line_error(invoke("mixup", data, tmp_path / "o1", "--layout", "csv"), 1, f"no CSV at {data / 'train.csv'}")
    result = invoke("mixup", data, tmp_path / "o2", "--layout", "folders", "--csv", small_data / "train.csv")
    assert_one_line_error(result, 2, "--csv and --layout folders exclude each other")
    result = invoke("mixup", small_data, tmp_path / "o3", "--layout", "folders")
    assert_one_line_error(result, 1, f"no class folders under {small_data}")  # DATA/train holds images, not folders
    with pytest.raises(UsageError, match="--label-sep needs a CSV"):
        load_dataset(data, layout="folders", label_sep="|")


def test_subprocess_on_class_folders_made_from_sample_data(tmp_path):
    data = tmp_path / "folders"
    table = pd.read_csv(SAMPLE_DATA / "train.csv")
    for row in table.itertuples():
        (data / row.label).mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE_DATA / "train" / row.image, data / row.label / row.image)
    out = tmp_path / "o"
    proc = subprocess.run(mixcli_command("cutmix", data, out, "-q"), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out / "train.csv")
    assert len(df) == len(table) and df.image.is_unique
    assert all(src.split("/")[0] in set(table.label) for src in df.source_a)
    assert all((out / name).is_file() for name in df.image)


def test_other_column_names(tmp_path):
    data = write_dataset(tmp_path / "d", [(5, 7)] * 4, [0, 1, 0, 1])
    text = (data / "train.csv").read_text().replace("image,label", "path,klass")
    (data / "train.csv").write_text(text.replace("\n", ",ignored\n").replace("path,klass,ignored", "path,klass,image"))
    result = invoke_ok("mixup", data, tmp_path / "o", "--image-col", "path", "--label-col", "klass", "--json")
    df = pd.read_csv(tmp_path / "o" / "train.csv")
    assert df.source_a.tolist() == [f"img{k:03d}.png" for k in range(4)] and list(df.columns[2:4]) == ["p_0", "p_1"]
    result = invoke("mixup", data, tmp_path / "o2", "--image-col", "file", "--label-col", "klass")
    assert_one_line_error(result, 1, "no file column")  # not the column named image


def test_csv_from_stdin_is_the_same_run_as_from_its_file(small_data, tmp_path):
    text = (small_data / "train.csv").read_text()
    invoke_ok("cutmix", small_data, tmp_path / "file", "--seed", 3, "-q")
    invoke_ok("cutmix", small_data, tmp_path / "stdin", "--seed", 3, "--csv", "-", "-q", input=text)
    assert out_files(tmp_path / "file") == out_files(tmp_path / "stdin")
    filtered = "".join(line + "\n" for line in text.splitlines() if "img003" not in line)
    invoke_ok("mixup", small_data, tmp_path / "grep", "--csv", "-", "--json", input=filtered)
    assert "img003.png" not in (tmp_path / "grep" / "train.csv").read_text()
    assert_one_line_error(invoke("mixup", small_data, tmp_path / "empty", "--csv", "-", input=""), 1, "cannot read stdin")


def test_multi_label_targets_mix_linearly_and_label_lists_the_classes_over_a_half(tmp_path):
    labels = ["cat|dog", "dog", "cat | bird", "bird|dog|cat", "dog", "cat"]
    data = write_dataset(tmp_path / "d", [(8, 10)] * 6, labels)
    (data / "train.csv").write_text("image,label\n" + "".join(f'img{k:03d}.png,"{l}"\n' for k, l in enumerate(labels)))
    out = tmp_path / "o"
    invoke_ok("mixup", data, out, "--label-sep", "|", "--seed", 2, "--format", "png")
    df = pd.read_csv(out / "train.csv", keep_default_na=False)
    classes = ["bird", "cat", "dog"]
    hot = {f"img{k:03d}.png": np.array([c in [p.strip() for p in l.split("|")] for c in classes], float) for k, l in enumerate(labels)}
    for row in df.itertuples():
        want = row.lam * hot[row.source_a] + (1 - row.lam) * hot[row.source_b]
        got = np.array([row.p_bird, row.p_cat, row.p_dog])
        np.testing.assert_allclose(got, want, atol=1e-12)
        assert row.label == "|".join(c for c, w in zip(classes, got) if w >= 0.5)
    # Chained: the p_ columns are read as they are (not normalised); --label-sep keeps the label a list.
    out2 = tmp_path / "o2"
    invoke_ok("cutmix", out, out2, "--label-sep", "|", "--seed", 5, "--format", "png", "-q")
    df2 = pd.read_csv(out2 / "train.csv", keep_default_na=False)
    first = df.set_index("image")[["p_bird", "p_cat", "p_dog"]]
    for row in df2.itertuples():
        want = row.lam * first.loc[row.source_a].to_numpy() + (1 - row.lam) * first.loc[row.source_b].to_numpy()
        got = np.array([row.p_bird, row.p_cat, row.p_dog])
        np.testing.assert_allclose(got, want, atol=1e-12)
        assert row.label == "|".join(c for c, w in zip(classes, got) if w >= 0.5)
    assert (df2[["p_bird", "p_cat", "p_dog"]].sum(axis=1) > 1.01).any()  # independent probabilities


def test_multi_label_row_without_a_class_is_an_error(tmp_path):
    data = write_dataset(tmp_path / "d", [(4, 4)] * 2, ["a", "|"])
    with pytest.raises(MixcliError, match="no class in the label"):
        load_dataset(data, label_sep="|")

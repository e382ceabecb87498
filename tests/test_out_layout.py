"""--out-layout folders: OUT/images/<label>/<name>, the same files as the flat layout."""

from pathlib import Path

import pandas as pd

from conftest import assert_one_line_error, invoke, invoke_ok, out_files, write_dataset


def test_folders_hold_the_flat_layouts_files_under_each_rows_label(small_data, tmp_path):
    args = ["--seed", "4", "--copies", "2", "--keep-originals", "--label-smoothing", "0.1", "-q"]
    invoke_ok("cutmix", small_data, tmp_path / "flat", *args)
    invoke_ok("cutmix", small_data, tmp_path / "tree", "--out-layout", "folders", *args)
    flat = pd.read_csv(tmp_path / "flat" / "train.csv")
    tree = pd.read_csv(tmp_path / "tree" / "train.csv")
    assert tree.drop(columns="image").equals(flat.drop(columns="image"))
    for a, b, label in zip(flat.image, tree.image, tree.label):
        assert b == f"images/{label}/{Path(a).name}"
        assert (tmp_path / "tree" / b).read_bytes() == (tmp_path / "flat" / a).read_bytes()
    files = [p for p in (tmp_path / "tree" / "images").rglob("*") if p.is_file()]
    assert len(files) == len(tree)


def test_folders_of_hostile_class_names_stay_inside_out(tmp_path):
    data = write_dataset(tmp_path / "d", [(6, 8)] * 4, ["../up", "a/b", "..", "ok"])
    out = tmp_path / "o"
    invoke_ok("mixup", data, out, "--out-layout", "folders", "--prob", "0")
    table = pd.read_csv(out / "train.csv")
    root = (out / "images").resolve()
    for name in table.image:
        path = (out / name).resolve()
        assert root in path.parents and path.parent.parent == root and path.is_file()


def test_a_symlinked_label_folder_is_refused(small_data, tmp_path):
    out = tmp_path / "o"
    invoke_ok("mixup", small_data, out, "--prob", "0", "-q")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for label in (0, 1, 2):
        (out / "images" / str(label)).symlink_to(elsewhere)
    result = invoke("mixup", small_data, out, "--prob", "0", "--overwrite", "--out-layout", "folders")
    line = assert_one_line_error(result, 1, "is not a plain folder: refusing to write through it")
    assert line.split()[2].rsplit("/", 1)[0] == str(out / "images")  # one of the label folders
    assert not any(elsewhere.iterdir())


def test_folders_layout_is_the_same_whatever_the_workers(small_data, tmp_path):
    for w in (1, 3):
        invoke_ok("mix", small_data, tmp_path / f"w{w}", "--out-layout", "folders", "--workers", w, "-q")
    assert out_files(tmp_path / "w1") == out_files(tmp_path / "w3")


def test_bad_layout_is_a_usage_error(small_data, tmp_path):
    assert_one_line_error(invoke("mixup", small_data, tmp_path / "o", "--out-layout", "tree"), 2, "--out-layout must be flat or folders, got 'tree'")


def test_a_label_too_long_for_a_folder_name_is_cut_with_a_digest(tmp_path):
    long = ["tag_" + "x" * 300, "tag_" + "x" * 299 + "y", "short"]
    data = write_dataset(tmp_path / "d", [(6, 8)] * 3, long)
    out = tmp_path / "o"
    invoke_ok("cutout", data, out, "--out-layout", "folders", "-q")
    folders = sorted(p.name for p in (out / "images").iterdir())
    assert len(folders) == 3 and max(len(f) for f in folders) <= 113  # two long labels, two folders
    table = pd.read_csv(out / "train.csv")
    assert all((out / name).is_file() for name in table.image)

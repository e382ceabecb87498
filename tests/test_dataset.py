"""mixcli.data.dataset.load_dataset: finding the CSV and images, reading labels, and its errors."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import assert_one_line_error, invoke
from mixcli.data.dataset import load_dataset
from mixcli.store.local import LocalStore
from mixcli.errors import MixcliError


def _png(path: Path, h: int = 5, w: int = 7, seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), img)


def _make(data: Path, rows, layout: str = "flat", header: str = "image,label", sep: str = ",") -> Path:
    """Write PNGs for the rows' image names and DATA/train.csv; return DATA."""
    img_dir = data / "train" if layout == "train" else data
    for k, row in enumerate(rows):
        _png(img_dir / row[0], seed=k)
    data.mkdir(parents=True, exist_ok=True)
    lines = [header] + [sep.join(str(v) for v in row) for row in rows]
    (data / "train.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


def _raw(tmp_path: Path, csv: str | bytes, images=("a.png", "b.png")) -> Path:
    """DATA with PNGs for `images` and train.csv holding exactly `csv`; return DATA."""
    data = tmp_path / "d"
    for name in images:
        _png(data / name)
    if isinstance(csv, bytes):
        (data / "train.csv").write_bytes(csv)
    else:
        (data / "train.csv").write_text(csv)
    return data


def _onehot(idx, k):
    t = np.zeros((len(idx), k))
    t[np.arange(len(idx)), idx] = 1.0
    return t


# ---------------------------------------------------------------- layouts


def _where(ds) -> list[Path]:
    """Where each row's image is."""
    return [Path(ds.where(i)) for i in range(len(ds))]


def test_csv_beside_images(tmp_path):
    data = _make(tmp_path / "d", [("a.png", "cat"), ("b.png", "dog"), ("c.png", "cat")])
    ds = load_dataset(data)
    assert ds.source == LocalStore(data)
    assert ds.root == LocalStore(data)
    assert ds.images == ["a.png", "b.png", "c.png"]
    assert _where(ds) == [data / "a.png", data / "b.png", data / "c.png"]
    assert all(f.is_file() for f in _where(ds))
    assert len(ds) == 3
    assert ds.classes == ["cat", "dog"]
    np.testing.assert_array_equal(ds.targets, _onehot([0, 1, 0], 2))
    assert np.asarray(ds.targets).dtype == np.float64


def test_csv_beside_train_folder(tmp_path):
    data = _make(tmp_path / "d", [("a.png", "cat"), ("b.png", "dog")], layout="train")
    ds = load_dataset(data)
    assert ds.root == LocalStore(data / "train")
    assert _where(ds) == [data / "train" / "a.png", data / "train" / "b.png"]


def test_train_folder_chosen_only_when_it_holds_more_images(tmp_path):
    # A train/ folder that holds none of the listed images does not win over DATA.
    data = _make(tmp_path / "d", [("a.png", "cat"), ("b.png", "dog")], layout="flat")
    (data / "train").mkdir()
    _png(data / "train" / "other.png")
    assert load_dataset(data).root == LocalStore(data)


def test_images_in_subfolders(tmp_path):
    data = _make(tmp_path / "d", [("x/a.png", "cat"), ("y/b.png", "dog")], layout="train")
    ds = load_dataset(data)
    assert ds.root == LocalStore(data / "train")
    assert _where(ds) == [data / "train" / "x" / "a.png", data / "train" / "y" / "b.png"]


def test_csv_override(tmp_path):
    data = tmp_path / "d"
    _png(data / "a.png")
    _png(data / "b.png")
    csv = tmp_path / "elsewhere" / "labels.csv"
    csv.parent.mkdir()
    csv.write_text("image,label\na.png,1\nb.png,0\n")
    ds = load_dataset(data, csv=csv)
    assert ds.source == LocalStore(csv.parent)
    assert ds.root == LocalStore(data)
    assert ds.classes == [0, 1]
    np.testing.assert_array_equal(ds.targets, _onehot([1, 0], 2))


def test_image_dir_override(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "train.csv").write_text("image,label\na.png,1\nb.png,0\n")
    imgs = tmp_path / "pictures"
    _png(imgs / "a.png")
    _png(imgs / "b.png")
    ds = load_dataset(data, image_dir=imgs)
    assert ds.root == LocalStore(imgs)
    assert _where(ds) == [imgs / "a.png", imgs / "b.png"]


def test_image_dir_override_wins_over_data(tmp_path):
    # With image_dir given, images are looked up there only, even if DATA has them.
    data = _make(tmp_path / "d", [("a.png", "cat"), ("b.png", "dog")])
    imgs = tmp_path / "pictures"
    imgs.mkdir()
    with pytest.raises(MixcliError, match="2 image") as e:
        load_dataset(data, image_dir=imgs)
    assert "a.png" in str(e.value) and "b.png" in str(e.value) and str(imgs) in str(e.value)


def test_csv_and_image_dir_override_together(tmp_path):
    csv = tmp_path / "meta" / "list.csv"
    csv.parent.mkdir()
    csv.write_text("image,label\nq.png,z\nr.png,y\n")
    imgs = tmp_path / "imgs"
    _png(imgs / "q.png")
    _png(imgs / "r.png")
    ds = load_dataset(tmp_path / "nowhere", csv=csv, image_dir=imgs)
    assert ds.classes == ["y", "z"]
    np.testing.assert_array_equal(ds.targets, _onehot([1, 0], 2))


# ---------------------------------------------------------------- labels


def test_int_labels_sort_numerically(tmp_path):
    data = _make(tmp_path / "d", [("a.png", 2), ("b.png", 10), ("c.png", 1), ("d.png", 2)])
    ds = load_dataset(data)
    assert ds.classes == [1, 2, 10]
    assert all(type(c) is int for c in ds.classes)
    np.testing.assert_array_equal(ds.targets, _onehot([1, 2, 0, 1], 3))


def test_negative_int_labels(tmp_path):
    data = _make(tmp_path / "d", [("a.png", -1), ("b.png", 0), ("c.png", -10)])
    ds = load_dataset(data)
    assert ds.classes == [-10, -1, 0]
    np.testing.assert_array_equal(ds.targets, _onehot([1, 2, 0], 3))


def test_string_labels_sort(tmp_path):
    data = _make(tmp_path / "d", [("a.png", "zebra"), ("b.png", "ant"), ("c.png", "bee"), ("d.png", "ant")])
    ds = load_dataset(data)
    assert ds.classes == ["ant", "bee", "zebra"]
    np.testing.assert_array_equal(ds.targets, _onehot([2, 0, 1, 0], 3))


def test_mixed_int_and_string_labels_are_strings(tmp_path):
    data = _make(tmp_path / "d", [("a.png", "10"), ("b.png", "2"), ("c.png", "x"), ("d.png", "1.5")])
    ds = load_dataset(data)
    assert ds.classes == ["1.5", "10", "2", "x"]
    assert all(type(c) is str for c in ds.classes)
    np.testing.assert_array_equal(ds.targets, _onehot([1, 2, 3, 0], 4))


def test_labels_are_stripped(tmp_path):
    data = _make(tmp_path / "d", [("a.png", " 3"), ("b.png", "3 "), ("c.png", "4")])
    ds = load_dataset(data)
    assert ds.classes == [3, 4]
    np.testing.assert_array_equal(ds.targets, _onehot([0, 0, 1], 2))


def test_na_like_class_names_stay_strings(tmp_path):
    names = ["NA", "None", "null", "nan", "N/A", "cat"]
    data = _make(tmp_path / "d", [(f"{k}.png", n) for k, n in enumerate(names)])
    ds = load_dataset(data)
    assert ds.classes == sorted(names)
    assert all(type(c) is str for c in ds.classes)
    np.testing.assert_array_equal(np.asarray(ds.targets).argmax(axis=1), [sorted(names).index(n) for n in names])


def test_soft_labels_from_previous_output(tmp_path):
    # A previous mixcli output: label, p_<class> columns, then op/source/lam/box columns
    # where unmixed rows have empty cells. The p_ columns are the targets; label is ignored.
    data = tmp_path / "d"
    for k, n in enumerate(["m0.png", "m1.png", "m2.png"]):
        _png(data / n, seed=k)
    (data / "train.csv").write_text(
        "image,label,p_1,p_2,p_10,op,source_a,source_b,lam,x1,y1,x2,y2\n"
        "m0.png,1,0.7,0.3,0.0,mixup,a.png,b.png,0.7,,,,\n"
        "m1.png,10,0.0,0.0,1.0,none,b.png,,1.0,,,,\n"
        "m2.png,2,0.0,0.6,0.4,cutmix,c.png,a.png,0.6,1,2,3,4\n"
    )
    ds = load_dataset(data)
    assert ds.classes == [1, 2, 10]
    np.testing.assert_allclose(ds.targets, [[0.7, 0.3, 0.0], [0.0, 0.0, 1.0], [0.0, 0.6, 0.4]])


def test_soft_label_columns_are_put_in_class_order(tmp_path):
    # Columns out of order and without a label column: classes sorted, targets follow them.
    data = _raw(tmp_path, "p_dog,image,p_cat\n0.25,a.png,0.75\n1,b.png,0\n")
    ds = load_dataset(data)
    assert ds.classes == ["cat", "dog"]
    np.testing.assert_allclose(ds.targets, [[0.75, 0.25], [0.0, 1.0]])
    assert ds.ignored_columns == []


def test_user_p_column_beside_label_is_ignored(tmp_path):
    # A p_value column of the user's own, even with an empty cell and a non-number, is not a label.
    data = _raw(tmp_path, "image,label,p_value\na.png,cat,0.03\nb.png,dog,\nc.png,cat,n/a\n", images=("a.png", "b.png", "c.png"))
    ds = load_dataset(data)
    assert ds.classes == ["cat", "dog"]
    np.testing.assert_array_equal(ds.targets, _onehot([0, 1, 0], 2))
    assert ds.ignored_columns == ["p_value"]


def test_soft_forces_the_p_columns_beside_a_label_column(tmp_path):
    data = _raw(tmp_path, "image,label,p_dog,p_cat\na.png,cat,0.25,0.75\nb.png,cat,1,0\n")
    hard = load_dataset(data)
    assert hard.classes == ["cat"] and hard.ignored_columns == ["p_dog", "p_cat"]
    ds = load_dataset(data, soft=True)
    assert ds.classes == ["cat", "dog"] and ds.ignored_columns == []
    np.testing.assert_allclose(ds.targets, [[0.75, 0.25], [0.0, 1.0]])


def test_soft_without_p_columns_is_an_error(tmp_path):
    data = _make(tmp_path / "d", [("a.png", "cat"), ("b.png", "dog")])
    msg = _error(data, soft=True)
    assert "--soft" in msg and "no p_<class> columns" in msg and "image, label" in msg


@pytest.mark.parametrize("columns", ["op,source_a", "op,lam", "source_a,lam"])
def test_two_of_the_output_columns_do_not_make_a_mixcli_output(tmp_path, columns):
    # Only op, source_a and lam together mark a previous run; else the label column counts.
    data = _raw(tmp_path, f"image,label,p_a,p_b,{columns}\na.png,x,0.5,0.5,u,v\nb.png,y,1,0,u,v\n")
    ds = load_dataset(data)
    assert ds.classes == ["x", "y"] and ds.ignored_columns == ["p_a", "p_b"]
    np.testing.assert_array_equal(ds.targets, _onehot([0, 1], 2))


def test_labels_are_classes_as_written(tmp_path):
    data = _make(tmp_path / "d", [("a.png", "01"), ("b.png", "1"), ("c.png", "1"), ("d.png", "01")])
    ds = load_dataset(data)
    assert ds.classes == ["01", "1"]
    assert all(type(c) is str for c in ds.classes)
    np.testing.assert_array_equal(ds.targets, _onehot([0, 1, 1, 0], 2))


@pytest.mark.parametrize(
    "labels, classes",
    [
        (["2", "10", "-3", "0"], [-3, 0, 2, 10]),  # canonical integers: numbers, sorted numerically
        (["2", "010"], ["010", "2"]),  # a leading zero: all strings, sorted as strings
        (["+3", "10"], ["+3", "10"]),
        (["-0", "5"], ["-0", "5"]),
    ],
)
def test_integer_labels_only_when_canonical(tmp_path, labels, classes):
    data = _make(tmp_path / "d", [(f"{k}.png", v) for k, v in enumerate(labels)])
    ds = load_dataset(data)
    assert ds.classes == classes
    assert all(type(c) is type(classes[0]) for c in ds.classes)
    np.testing.assert_array_equal(np.asarray(ds.targets).argmax(axis=1), [classes.index(type(classes[0])(v)) for v in labels])


def test_soft_columns_p_01_and_p_1_are_two_classes(tmp_path):
    data = _raw(tmp_path, "image,p_1,p_01\na.png,0.2,0.8\nb.png,1,0\n")
    ds = load_dataset(data)
    assert ds.classes == ["01", "1"]
    np.testing.assert_allclose(ds.targets, [[0.8, 0.2], [0.0, 1.0]])


# ---------------------------------------------------------------- file formats


@pytest.mark.parametrize(
    "csv",
    [b"\xef\xbb\xbfimage,label\na.png,cat\nb.png,dog\n", b"image;label\na.png;cat\nb.png;dog\n", b"image\tlabel\r\na.png\tcat\r\nb.png\tdog\r\n"],
    ids=["utf8-bom", "semicolon", "tab-crlf"],
)
def test_csv_dialects(tmp_path, csv):
    ds = load_dataset(_raw(tmp_path, csv))
    assert ds.images == ["a.png", "b.png"]
    assert ds.classes == ["cat", "dog"]


def test_bom_and_semicolon_with_soft_labels(tmp_path):
    data = _raw(tmp_path, "\ufeffimage;p_0;p_1\na.png;0.5;0.5\nb.png;1;0\n".encode())
    ds = load_dataset(data)
    assert ds.classes == [0, 1]
    np.testing.assert_allclose(ds.targets, [[0.5, 0.5], [1.0, 0.0]])


def test_image_names_with_commas_in_semicolon_csv(tmp_path):
    data = tmp_path / "d"
    _png(data / "a,1.png")
    _png(data / "b.png")
    (data / "train.csv").write_text("image;label\na,1.png;cat\nb.png;dog\n")
    ds = load_dataset(data)
    assert ds.images == ["a,1.png", "b.png"]


# ---------------------------------------------------------------- errors


def _error(data, **kw) -> str:
    with pytest.raises(MixcliError) as e:
        load_dataset(data, **kw)
    assert e.value.exit_code == 1
    msg = str(e.value)
    assert "\n" not in msg  # one line for the user
    return msg


def test_missing_csv(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    msg = _error(data)
    assert str(data / "train.csv") in msg and "no CSV" in msg


def test_missing_override_csv(tmp_path):
    msg = _error(tmp_path, csv=tmp_path / "nope.csv")
    assert "nope.csv" in msg


def test_empty_csv(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "train.csv").write_bytes(b"")
    assert "cannot read" in _error(data)


def test_header_only_csv(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "train.csv").write_text("image,label\n")
    assert "no rows" in _error(data)


def test_missing_image_column(tmp_path):
    data = _raw(tmp_path, "file,label\na.png,cat\n", images=("a.png",))
    msg = _error(data)
    assert "no image column" in msg and "file" in msg


def test_missing_label_column(tmp_path):
    data = _raw(tmp_path, "image,class\na.png,cat\n", images=("a.png",))
    msg = _error(data)
    assert "no label column" in msg and "class" in msg


def test_empty_label_cell(tmp_path):
    data = _make(tmp_path / "d", [("a.png", "cat"), ("b.png", ""), ("c.png", "dog"), ("d.png", "")])
    msg = _error(data)
    # CSV lines 3 and 5 (header is line 1).
    assert "empty label" in msg and "2 row(s)" in msg and "3, 5" in msg


def test_empty_image_cell(tmp_path):
    data = _make(tmp_path / "d", [("a.png", "cat")])
    with open(data / "train.csv", "a") as f:
        f.write(",dog\n")
    msg = _error(data)
    assert "empty image" in msg and "3" in msg


def test_missing_image_file(tmp_path):
    data = _make(tmp_path / "d", [("a.png", "cat"), ("b.png", "dog")], layout="train")
    (data / "train" / "b.png").unlink()
    msg = _error(data)
    assert "b.png" in msg and "a.png" not in msg.split(":")[-1]
    assert "1 image(s)" in msg


def test_images_not_looked_for_when_found_already(tmp_path):
    """A Ray task's load (check_files=False): the driver found the images under image_dir; the task
    neither looks for them again (a store's listing of a million objects is long) nor guesses the root."""
    data = _make(tmp_path / "d", [("a.png", "cat"), ("b.png", "dog")], layout="train")
    (data / "train" / "b.png").unlink()
    ds = load_dataset(data, image_dir=data / "train", check_files=False)
    assert ds.root == LocalStore(data / "train") and _where(ds) == [data / "train" / "a.png", data / "train" / "b.png"]
    assert ds.classes == ["cat", "dog"]
    with pytest.raises(MixcliError, match="1 image"):
        load_dataset(data, image_dir=data / "train")


def test_many_missing_images_are_counted(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "train.csv").write_text("image,label\n" + "".join(f"m{k:02d}.png,c\n" for k in range(13)))
    msg = _error(data)
    assert "13 image(s)" in msg and "m00.png" in msg and "(and 3 more)" in msg


def test_non_numeric_soft_column(tmp_path):
    data = _raw(tmp_path, "image,p_cat,p_dog\na.png,0.5,half\nb.png,1,0\n")
    msg = _error(data)
    assert "p_" in msg and "numbers" in msg


@pytest.mark.parametrize("bad", ["-0.5", "inf", "nan"])
def test_soft_weights_must_be_finite_and_non_negative(tmp_path, bad):
    data = _raw(tmp_path, f"image,p_cat,p_dog\na.png,0.5,0.5\nb.png,{bad},1\n")
    msg = _error(data)
    assert "finite" in msg and "3" in msg


def test_empty_soft_cell(tmp_path):
    data = _raw(tmp_path, "image,p_cat,p_dog\na.png,,1\n", images=("a.png",))
    assert "empty p_cat" in _error(data)


def test_extra_field_in_a_later_row(tmp_path):
    data = _raw(tmp_path, "image,label\na.png,cat\nb.png,dog,extra\n")
    assert "cannot read" in _error(data)


def _files(data: Path, names) -> None:
    """PNG files under any name (cv2.imwrite needs an extension; imencode does not)."""
    data.mkdir(parents=True, exist_ok=True)
    for k, n in enumerate(names):
        img = np.random.default_rng(k).integers(0, 256, (4, 6, 3), dtype=np.uint8)
        (data / n).write_bytes(cv2.imencode(".png", img)[1].tobytes())


def test_trailing_commas_read_or_fail_cleanly(tmp_path):
    data = tmp_path / "d"
    _files(data, ["a.png", "b.png"])
    (data / "train.csv").write_text("image,label\na.png,cat,\nb.png,dog,\n")
    ds = load_dataset(data)  # read: an empty last field on every row is a trailing comma, not a column
    assert ds.images == ["a.png", "b.png"] and ds.classes == ["cat", "dog"]


@pytest.mark.parametrize("first", ["a.png,cat,extra", "a.png,cat,x,y"])
def test_extra_fields_in_first_row_fail_cleanly(tmp_path, first):
    data = tmp_path / "d"
    _files(data, ["a.png", "b.png"])
    (data / "train.csv").write_text(f"image,label\n{first}\nb.png,dog\n")
    assert _error(data) == f"cannot read {data / 'train.csv'}: rows have more fields than the header"


def test_unnamed_extra_column_does_not_shift_columns(tmp_path):
    data = tmp_path / "d"
    # Files named like the labels exist, so the shifted reading finds 'images' too.
    _files(data, ["a.png", "b.png", "cat", "dog"])
    (data / "train.csv").write_text("image,label\na.png,cat,x\nb.png,dog,y\n")
    assert _error(data) == f"cannot read {data / 'train.csv'}: rows have more fields than the header"  # not read shifted


def test_blank_label_cell_is_empty(tmp_path):
    data = _make(tmp_path / "d", [("a.png", "cat"), ("b.png", "   ")])
    assert "empty label" in _error(data)


def test_non_utf8_csv(tmp_path):
    data = _raw(tmp_path, "image,label\na.png,caf\u00e9\n".encode("utf-16"), images=("a.png",))
    assert _error(data).startswith(f"cannot read {data / 'train.csv'}: 'utf-8' codec can't decode byte 0xff in position 0")


@pytest.mark.parametrize("where", ["image", "label"])
def test_a_line_break_in_a_path_or_a_class_is_refused(tmp_path, where):
    data = tmp_path / "d"
    data.mkdir()
    name = "a\nb.png" if where == "image" else "img.png"
    cv2.imwrite(str(data / "img.png"), np.zeros((4, 4, 3), np.uint8))
    if where == "image":
        (data / "img.png").rename(data / name)
    label = "x\ny" if where == "label" else "x"
    (data / "train.csv").write_text(f'image,label\n"{name}","{label}"\n"{name}",z\n')
    assert_one_line_error(invoke("mixup", data, tmp_path / "o"), 1, "holds a line break")

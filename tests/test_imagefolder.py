"""--out-format imagefolder: OUT is the files output with its table named for Hugging Face
datasets (metadata.csv, image column file_name; metadata.jsonl with each row's objects nested for
a detection dataset), and `datasets.load_dataset("imagefolder", data_dir=OUT)` loads it as it is.
Its files are named by their output row alone (images/000002.jpg, masks/000002.png, ...; the files
output's images/000002_<stem>.jpg): a stem could hold a split word that datasets reads."""

import json
import re
import shutil
import signal
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from conftest import visible_files as visible
from conftest import assert_one_line_error, invoke, invoke_ok, mixcli_command, start, wait_for_journal, write_dataset
from detection_data import make_dataset

datasets = pytest.importorskip("datasets", reason="the imagefolder tests need Hugging Face datasets (pip install -e '.[test]')")

datasets.disable_progress_bars()
datasets.logging.set_verbosity_error()

TABLES = ("train.csv", "metadata.csv", "metadata.jsonl")
# A file of one output row: <folder>/<row, 6+ digits>[_<stem>]<ext> (the stem: the files output's)
ROW_FILE = re.compile(r"(images|masks|labels|label_maps)/(\d{6,})(_[^/]+)?(\.[a-z]+)")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """60 PNGs of small mixed sizes in 3 named classes."""
    root = tmp_path_factory.mktemp("d")
    return write_dataset(root, [(14 + k % 3, 12 + k % 5) for k in range(60)], [("cat", "dog", "owl")[k % 3] for k in range(60)])


@pytest.fixture(scope="module")
def yolo(tmp_path_factory):
    root = tmp_path_factory.mktemp("yolo")
    make_dataset(root / "d", "yolo", seed=3, n=40)
    return root / "d"


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    make_dataset(root / "d", "coco", seed=4, n=40)
    return root / "d"


def hf_load(out: Path, cache: Path):
    """OUT as Hugging Face datasets loads an image folder (its own cache, under the test's tmp_path)."""
    return datasets.load_dataset("imagefolder", data_dir=str(out), split="train", cache_dir=str(cache))


def read_text_table(path: Path) -> pd.DataFrame:
    """A CSV table, every cell as its text ('' for an empty one)."""
    return pd.read_csv(path, keep_default_na=False, dtype=str)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_value_is_text(value, text: str, what) -> None:
    """A value as datasets or metadata.jsonl gives it equals the field of train.csv: None for an
    empty field, numbers to the float, text as is."""
    if value is None:
        assert text == "", what
    elif isinstance(value, bool):
        raise AssertionError((what, value))
    elif isinstance(value, float):
        assert value == float(text), what
    elif isinstance(value, int):
        assert text != "" and value == int(text), what
    else:
        assert value == text, what


def row_only(name: str) -> str:
    """A files output's name of an output row's file as the imagefolder output names it, by the
    row alone: images/000002_img002.jpg -> images/000002.jpg (masks/, labels/, label_maps/ alike)."""
    m = ROW_FILE.fullmatch(name)
    assert m is not None and m[3], name  # <row>_<stem><ext>
    return f"{m[1]}/{m[2]}{m[4]}"


def by_row(files: dict[str, bytes], stems: bool) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """A run's files split in two: each output row's (under images/, masks/, labels/, label_maps/),
    by its row-only name, and the others, by name. stems: whether the run names them
    <row>_<stem><ext> (files) or <row><ext> (imagefolder); every one is so named."""
    rows, rest = {}, {}
    for name, data in files.items():
        m = ROW_FILE.fullmatch(name)
        if m is None:
            rest[name] = data
            continue
        assert bool(m[3]) == stems, name
        key = f"{m[1]}/{m[2]}{m[4]}"
        assert key not in rows, (key, name)  # one file a row and a folder
        rows[key] = data
    return rows, rest


def renamed(text: str, paths: dict, first: str | None = None) -> str:
    """A table's text with each field of the columns in `paths` mapped by its function (each
    ';'-joined part, an empty field left empty) and, given `first`, its header's first field so
    named; everything else byte for byte."""
    assert '"' not in text  # no quoted field: a line is its fields joined by ','
    header, *lines = text.split("\n")
    names = header.split(",")
    assert set(paths) <= set(names), (paths, names)
    out = [",".join([first, *names[1:]]) if first else header]
    for line in lines:
        fields = line.split(",") if line else []
        assert not fields or len(fields) == len(names), line
        for column, f in paths.items() if fields else ():
            k = names.index(column)
            fields[k] = ";".join(f(part) for part in fields[k].split(";")) if fields[k] else ""
        out.append(",".join(fields))
    return "\n".join(out)


def assert_same_output_but_the_table(files: Path, folder: Path, table: str) -> None:
    """Every file of the files run is in the imagefolder run with the same bytes, matched by its
    output row (images/000002_img002.jpg is images/000002.jpg), train.csv aside; an
    annotations.json names the images so, and is else the same bytes; the imagefolder run has
    `table` instead of train.csv, and no other table."""
    a, b = visible(files), visible(folder)
    assert "train.csv" in a and table in b
    assert not any(t in b for t in TABLES if t != table)
    a_rows, a_rest = by_row(a, stems=True)
    b_rows, b_rest = by_row(b, stems=False)
    assert any(k.startswith("images/") for k in a_rows)
    assert a_rows == b_rows
    if "annotations.json" in a_rest:
        text = a_rest["annotations.json"].decode()
        for name in a:
            if name.startswith("images/"):
                assert text.count(json.dumps(name)) == 1, name
                text = text.replace(json.dumps(name), json.dumps(row_only(name)))
        a_rest["annotations.json"] = text.encode()
    assert {k: v for k, v in a_rest.items() if k != "train.csv"} == {k: v for k, v in b_rest.items() if k != table}


def run_both(data, tmp_path, op, *args):
    """`mixcli OP DATA` into tmp_path/files and tmp_path/folder, --out-format files and imagefolder."""
    common = [*args, "--seed", "7", "--shard-size", "32", "-q"]
    invoke_ok(op, data, tmp_path / "files", *common)
    invoke_ok(op, data, tmp_path / "folder", *common, "--out-format", "imagefolder")
    return tmp_path / "files", tmp_path / "folder"


# ---------------------------------------------------------------- 1. the files output, the table renamed


@pytest.mark.parametrize("args", [
    ["mixup", "--alpha", "0.4"],
    ["cutmix", "--prob", "0.5"],
    ["fmix", "--format", "png"],
], ids=["mixup", "cutmix", "fmix"])
def test_images_and_masks_are_the_files_outputs_and_metadata_csv_is_train_csv_renamed(data, tmp_path, args):
    files, folder = run_both(data, tmp_path, *args)
    assert_same_output_but_the_table(files, folder, "metadata.csv")
    train = (files / "train.csv").read_text()
    assert train.startswith("image,")
    # train.csv byte for byte but its header's first field and the paths of its output files:
    # the same rows, the same inputs in source_a, source_b and sources
    paths = {"image": row_only, **({"mask": row_only} if args[0] == "fmix" else {})}
    assert (folder / "metadata.csv").read_text() == renamed(train, paths, first="file_name")
    assert not (folder / "train.csv").exists()
    table = read_text_table(files / "train.csv")
    names = list(read_text_table(folder / "metadata.csv")["file_name"])
    ext = ".png" if "png" in args else ".jpg"
    assert names == [f"images/{r:06d}{ext}" for r in range(60)]  # the output row alone
    assert len(table) == 60 and all((folder / p).is_file() for p in names)
    if args[0] == "fmix":
        assert (table["mask"] != "").all() and len(list((folder / "masks").iterdir())) == 60
    if args[0] == "cutmix":
        assert 0 < (table["op"] == "none").sum() < 60  # some rows passed through


# ---------------------------------------------------------------- 2. loaded by Hugging Face datasets


@pytest.mark.parametrize("args", [
    ["mixup"],
    ["cutmix", "--prob", "0.5", "--label-format", "sparse"],
    ["mixup", "--copies", "2", "--keep-originals", "--format", "png"],
    ["fmix", "--prob", "0.7"],
], ids=["mixup", "sparse", "copies", "fmix"])
def test_datasets_loads_every_row_with_the_tables_values_and_the_images_pixels(data, tmp_path, args):
    out = tmp_path / "o"
    invoke_ok(args[0], data, out, *args[1:], "--seed", "3", "--out-format", "imagefolder", "-q")
    table = read_text_table(out / "metadata.csv")
    ds = hf_load(out, tmp_path / "hf")
    assert len(ds) == len(table) == 60 * (3 if "--copies" in args else 1)

    features = ds.features
    assert isinstance(features["image"], datasets.Image)
    assert set(features) == {"image", *table.columns} - {"file_name"}
    soft = [c for c in table.columns if c.startswith("p_")]
    if "sparse" in args:
        assert not soft and "soft_label" in features
    else:
        assert soft == ["p_cat", "p_dog", "p_owl"]
    for c in [*soft, "lam"]:
        assert features[c] == datasets.Value("float64"), (c, features[c])

    # the rows in the table's order: each row's image is the file its file_name names
    paths = [Path(r["path"]).resolve() for r in ds.cast_column("image", datasets.Image(decode=False))["image"]]
    assert paths == [(out / name).resolve() for name in table["file_name"]]

    rows = ds.remove_columns("image").to_list()
    for k, row in enumerate(rows):
        for col, value in row.items():
            assert_value_is_text(value, table.at[k, col], (k, col))
    if "--copies" in args:
        assert (table["op"] == "none").sum() == 60  # the originals
    if "--prob" in args:
        assert {"none", args[0]} == set(table["op"])

    for k in (0, 1, len(ds) // 2, len(ds) - 1):
        got = np.asarray(ds[k]["image"].convert("RGB"))
        want = cv2.imread(str(out / table.at[k, "file_name"]), cv2.IMREAD_COLOR)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want[:, :, ::-1], err_msg=table.at[k, "file_name"])


def test_integer_classes_load_as_integer_labels(tmp_path):
    data = write_dataset(tmp_path / "d", [(10, 12)] * 8, [3, 10] * 4)
    out = tmp_path / "o"
    invoke_ok("cutmix", data, out, "--out-format", "imagefolder", "-q")
    ds = hf_load(out, tmp_path / "hf")
    assert ds.features["label"].dtype == "int64"
    assert ds["label"] == [int(v) for v in read_text_table(out / "metadata.csv")["label"]]
    assert [c for c in ds.features if c.startswith("p_")] == ["p_3", "p_10"]


# ---------------------------------------------------------------- 3. why not train.csv


def test_a_train_csv_at_outs_root_would_hide_every_image_from_datasets(data, tmp_path):
    files, folder = run_both(data, tmp_path, "mixup")
    assert len(hf_load(folder, tmp_path / "hf1")) == 60
    pitfall = tmp_path / "pitfall"
    shutil.copytree(folder, pitfall)
    shutil.copy(files / "train.csv", pitfall / "train.csv")
    # train.csv matches datasets' pattern of the train split's files: the split is that CSV alone, no image
    with pytest.raises(ValueError, match="corresponds to no data"):
        hf_load(pitfall, tmp_path / "hf2")


def test_an_image_named_like_a_split_does_not_split_the_dataset(tmp_path):
    """An output image named after an input whose name holds a split word (test_c.png ->
    images/000002_test_c.jpg) would be taken by datasets for a file of that split, and the
    train split lost: the images are named by their output row alone."""
    names = ["a.png", "b.png", "test_c.png", "d.png", "val_e.png", "f.png", "g.png", "h.png"]
    data = write_dataset(tmp_path / "d", [(10, 12)] * 8, [0, 1] * 4)
    for k, name in enumerate(names):
        (data / "train" / f"img{k:03d}.png").rename(data / "train" / name)
    (data / "train.csv").write_text("image,label\n" + "".join(f"{n},{k % 2}\n" for k, n in enumerate(names)))
    out = tmp_path / "o"
    invoke_ok("mixup", data, out, "--out-format", "imagefolder", "-q")
    want = [f"images/{r:06d}.jpg" for r in range(8)]  # no stem: no input's name in them
    assert sorted(f"images/{p.name}" for p in (out / "images").iterdir()) == want
    table = read_text_table(out / "metadata.csv")
    assert list(table["file_name"]) == want
    assert list(table["source_a"]) == names  # the inputs, by their own names
    # named images/000002_test_c.jpg, datasets 5.2 said: ValueError 'Unknown split "train"' (splits validation and test, 1 row each)
    ds = hf_load(out, tmp_path / "hf")
    assert len(ds) == 8
    paths = [Path(r["path"]).resolve() for r in ds.cast_column("image", datasets.Image(decode=False))["image"]]
    assert paths == [(out / name).resolve() for name in want]


@pytest.mark.parametrize("case", ["csv", "reversed-dry-run", "yolo"])
def test_out_layout_folders_is_refused_with_imagefolder(request, data, tmp_path, case):
    """Class folders beside metadata.csv: its labels twice, and datasets would take a class folder
    named like a split for one. The two options exclude each other, whatever their order, in a dry
    run too, and for a detection layout."""
    out = tmp_path / "o"
    both = ["--out-layout", "folders", "--out-format", "imagefolder"]
    if case == "csv":
        result = invoke("mixup", data, out, *both)
    elif case == "reversed-dry-run":
        result = invoke("cutmix", data, out, *both[2:], *both[:2], "--dry-run")
    else:
        result = invoke("mosaic", request.getfixturevalue("yolo"), out, "--layout", "yolo", *both)
    assert_one_line_error(result, 2, "--out-layout folders", "--out-format imagefolder", "exclude each other")
    assert not out.exists()


# ---------------------------------------------------------------- 4. detection: metadata.jsonl


DETECTION = [("yolo", "mosaic"), ("yolo", "cutmix"), ("coco", "mosaic"), ("coco", "cutmix"), ("coco", "mixup")]


@pytest.mark.parametrize("layout, op", DETECTION, ids=[f"{a}-{b}" for a, b in DETECTION])
def test_detection_objects_are_nested_in_metadata_jsonl(request, tmp_path, layout, op):
    data = request.getfixturevalue(layout)
    files, folder = run_both(data, tmp_path, op, "--layout", layout, "--format", "png")
    assert_same_output_but_the_table(files, folder, "metadata.jsonl")  # images, labels/, data.yaml, annotations.json
    assert not (folder / "train.csv").exists() and not (folder / "metadata.csv").exists()
    table = read_text_table(files / "train.csv")
    records = jsonl(folder / "metadata.jsonl")
    assert len(records) == len(table) == 40
    assert list(records[0]) == ["file_name", *table.columns[1:]]

    if layout == "coco":
        ann = json.loads((files / "annotations.json").read_text())
        by_image = {im["id"]: [] for im in ann["images"]}
        for a in ann["annotations"]:
            by_image[a["image_id"]].append(a)
        assert [im["file_name"] for im in ann["images"]] == list(table["image"])
        truth = [by_image[im["id"]] for im in ann["images"]]
    for k, record in enumerate(records):
        row = table.iloc[k]
        assert record["file_name"] == row_only(row["image"]) and (folder / record["file_name"]).is_file()
        objects = record["objects"]
        assert set(objects) == {"bbox", "category", "weight"}
        assert len(objects["bbox"]) == len(objects["category"]) == len(objects["weight"]) == int(row["objects"])
        for col in table.columns[1:]:
            if col != "objects":
                assert_value_is_text(record[col], row[col], (k, col))
        if layout == "coco":
            assert objects["bbox"] == [a["bbox"] for a in truth[k]], k
            assert objects["category"] == [a["category_id"] for a in truth[k]], k
            assert objects["weight"] == [a["weight"] for a in truth[k]], k
        else:
            h, w = cv2.imread(str(files / row["image"]), cv2.IMREAD_UNCHANGED).shape[:2]
            label = files / "labels" / Path(row["image"]).relative_to("images").with_suffix(".txt")
            lines = [line.split() for line in label.read_text().splitlines()]
            assert objects["category"] == [int(c) for c, *_ in lines], k
            want = [[(float(cx) - float(bw) / 2) * w, (float(cy) - float(bh) / 2) * h, float(bw) * w, float(bh) * h] for _, cx, cy, bw, bh in lines]
            assert len(objects["bbox"]) == len(want)
            for got, box in zip(objects["bbox"], want):
                assert got == pytest.approx(box, abs=1e-4), k
            assert objects["weight"] == [1.0] * len(lines)
    if op == "mixup":
        assert any(w != 1.0 for r in records for w in r["objects"]["weight"])

    ds = hf_load(folder, tmp_path / "hf")
    assert len(ds) == 40
    nested = ds.features["objects"]
    assert set(nested) == {"bbox", "category", "weight"}
    assert isinstance(nested["bbox"], datasets.List) and isinstance(nested["bbox"].feature, datasets.List)
    assert nested["bbox"].feature.feature == datasets.Value("float64")
    assert isinstance(nested["category"], datasets.List) and nested["category"].feature == datasets.Value("int64")
    loaded = ds.remove_columns("image").to_list()
    for k, (row, record) in enumerate(zip(loaded, records)):
        assert all(len(b) == 4 and all(isinstance(v, float) for v in b) for b in row["objects"]["bbox"]), k
        assert all(isinstance(c, int) for c in row["objects"]["category"]), k
        assert row["objects"]["bbox"] == record["objects"]["bbox"], k
        assert row["objects"]["category"] == record["objects"]["category"], k
        assert row["lam"] == record["lam"] and row["sources"] == record["sources"], k
    assert sum(len(r["objects"]["bbox"]) for r in loaded) > 40


# ---------------------------------------------------------------- 5. the run's guarantees


@pytest.mark.parametrize("case", ["cutmix", "fmix", "yolo", "coco"])
def test_the_same_bytes_on_any_workers_and_through_shard_groups(request, data, tmp_path, case):
    if case in ("yolo", "coco"):
        src, args, table = request.getfixturevalue(case), ["mosaic", "--layout", case], "metadata.jsonl"
    else:
        src, args, table = data, [case, "--prob", "0.7"], "metadata.csv"
    common = [*args[1:], "--seed", "5", "--shard-size", "16", "--out-format", "imagefolder", "-q"]
    one, three, groups = tmp_path / "one", tmp_path / "three", tmp_path / "groups"
    invoke_ok(args[0], src, one, *common, "--workers", "1")
    invoke_ok(args[0], src, three, *common, "--workers", "3")
    assert len(list((one / ".mixcli" / "shards").glob("*.json"))) >= 3
    for i in (1, 0):
        invoke_ok(args[0], src, groups, *common, "--shards", f"{i}/2")
        assert not any((groups / t).exists() for t in TABLES)
    merged = json.loads(invoke_ok("merge", groups, "--json", "-q").stdout)
    assert Path(merged["csv"]).name == table
    expected = visible(one)
    assert table in expected and not any(t in expected for t in TABLES if t != table)
    assert visible(three) == expected
    assert visible(groups) == expected


@pytest.mark.parametrize("case", ["csv", "yolo"])
def test_resume_after_a_finished_run_rewrites_nothing(request, data, tmp_path, case):
    src, args = (data, ["cutmix"]) if case == "csv" else (request.getfixturevalue("yolo"), ["mosaic", "--layout", "yolo"])
    out = tmp_path / "o"
    invoke_ok(*args[:1], src, out, *args[1:], "--out-format", "imagefolder", "--shard-size", "16", "-q")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    summary = json.loads(invoke_ok(*args[:1], src, out, *args[1:], "--out-format", "imagefolder", "--shard-size", "16", "--resume", "--json", "-q").stdout)
    assert summary["removed"] == 0 and summary["rows"] == (60 if case == "csv" else 40)
    assert Path(summary["csv"]).name == ("metadata.csv" if case == "csv" else "metadata.jsonl")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("case", ["csv", "yolo"])
def test_overwrite_between_formats_leaves_one_table(request, data, tmp_path, case):
    src, args, table = (data, ["mixup"], "metadata.csv") if case == "csv" else (request.getfixturevalue("yolo"), ["mosaic", "--layout", "yolo"], "metadata.jsonl")
    out = tmp_path / "o"
    invoke_ok(args[0], src, out, *args[1:], "--copies", "2", "-q")
    invoke_ok(args[0], src, out, *args[1:], "--out-format", "imagefolder", "--overwrite", "-q")
    assert {p.name for p in out.iterdir() if p.suffix in (".csv", ".jsonl")} == {table}
    n = 60 if case == "csv" else 40
    assert len(list((out / "images").iterdir())) == n  # the earlier run's second copies removed
    assert len(hf_load(out, tmp_path / "hf")) == n
    invoke_ok(args[0], src, out, *args[1:], "--overwrite", "-q")
    assert {p.name for p in out.iterdir() if p.suffix in (".csv", ".jsonl")} == {"train.csv"}
    fresh = tmp_path / "fresh"
    invoke_ok(args[0], src, fresh, *args[1:], "-q")
    assert visible(out) == visible(fresh)


@pytest.mark.parametrize("case", ["csv", "coco"])
def test_a_dry_run_names_the_table_it_would_write(request, data, tmp_path, case):
    src, args, table = (data, ["cutmix"], "metadata.csv") if case == "csv" else (request.getfixturevalue("coco"), ["mosaic", "--layout", "coco"], "metadata.jsonl")
    out = tmp_path / "o"
    summary = json.loads(invoke_ok(args[0], src, out, *args[1:], "--out-format", "imagefolder", "--dry-run", "--json", "-q").stdout)
    assert summary["dry_run"] is True and summary["csv"] == str(out / table)
    assert summary["first_rows"].startswith("file_name,")
    assert not out.exists()


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_same_metadata_jsonl(tmp_path):
    data = tmp_path / "d"
    make_dataset(data, "yolo", seed=6, n=64)
    ref, out = tmp_path / "ref", tmp_path / "out"
    args = ("--layout", "yolo", "--shard-size", "32", "--format", "png", "--size", "640x480", "--out-format", "imagefolder")
    assert subprocess.run(mixcli_command("mosaic", data, ref, "-q", "--quality", "90", *args)).returncode == 0
    proc = start(data, out, *args, op="mosaic")
    assert wait_for_journal(out, proc, lines=1), "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not any((out / t).exists() for t in TABLES)
    resumed = subprocess.run(mixcli_command("mosaic", data, out, "--resume", "--quality", "90", *args), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert visible(out) == visible(ref) and "metadata.jsonl" in visible(ref)


# ---------------------------------------------------------------- 6. reading an image folder


def test_an_imagefolder_out_chains_into_the_next_run(data, tmp_path):
    files, folder = run_both(data, tmp_path, "mixup", "--prob", "0.8")
    invoke_ok("cutmix", folder, tmp_path / "next", "--seed", "1", "-q")
    invoke_ok("cutmix", files, tmp_path / "next_files", "--seed", "1", "-q")
    first = read_text_table(folder / "metadata.csv")
    second = read_text_table(tmp_path / "next" / "train.csv")
    assert list(second["source_a"]) == list(first["file_name"])  # OUT1's images, by their file_name
    assert {s for v in second["sources"] for s in v.split(";")} <= set(first["file_name"])
    assert [c for c in second.columns if c.startswith("p_")] == ["p_cat", "p_dog", "p_owl"]
    # read as the files output is: the same next run, file by file matched by output row (each
    # run's own names hold the stem of its input: OUT1's row-only name, or the files output's stem)
    a_rows, a_rest = by_row(visible(tmp_path / "next"), stems=True)
    b_rows, b_rest = by_row(visible(tmp_path / "next_files"), stems=True)
    assert len(a_rows) == 60 and a_rows == b_rows
    assert set(a_rest) == set(b_rest) == {"train.csv"}
    # and its train.csv, byte for byte but its own paths and the sources' names: OUT1's by their row alone
    own = {"image": row_only}
    sources = {c: row_only for c in ("source_a", "source_b", "sources")}
    assert renamed(a_rest["train.csv"].decode(), own) == renamed(b_rest["train.csv"].decode(), own | sources)


def test_a_hugging_face_image_folder_is_a_dataset(tmp_path):
    data = tmp_path / "hf_style"
    rng = np.random.default_rng(0)
    names = [f"pics/p{k}.png" if k % 2 else f"q{k}.png" for k in range(8)]
    for k, name in enumerate(names):
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(data / name), rng.integers(0, 256, (10 + k, 12, 3), dtype=np.uint8))
    (data / "metadata.csv").write_text("file_name,label\n" + "".join(f"{n},{'ab'[k % 2]}\n" for k, n in enumerate(names)))
    assert len(hf_load(data, tmp_path / "hf")) == 8  # datasets' own reading of it
    out = tmp_path / "o"
    invoke_ok("mixup", data, out, "--prob", "0", "--format", "png", "-q")
    table = read_text_table(out / "train.csv")
    assert list(table["source_a"]) == names
    assert list(table["label"]) == ["a", "b"] * 4 and list(table["p_a"]) == ["1.0", "0.0"] * 4
    for k, name in enumerate(names):  # passed through: the input's pixels
        np.testing.assert_array_equal(cv2.imread(str(out / table.at[k, "image"])), cv2.imread(str(data / name)))
    invoke_ok("mixup", data, tmp_path / "o2", "--seed", "2", "-q")
    assert set(read_text_table(tmp_path / "o2" / "train.csv")["op"]) == {"mixup"}

"""train.csv's rows from hand-made RowResults (mixcli.data.table.Table): the columns in order, dense and
sparse label fields, label smoothing, multi-label labels, rows dropped by --skip-bad left out, x1..y2
only for the operations with box columns, quoting, a shard's part (the ROW column first), and
images filed by label (--out-layout folders)."""

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from mixcli import columns
from mixcli.data import table as table_module
from mixcli.data.dataset import Dataset
from mixcli.data.labels import Targets
from mixcli.data.table import Table, skipped_rows
from mixcli.outdir import Out
from mixcli.records import RowResult
from mixcli.store import LocalStore

# Input rows 0..3: a.png (class 0), b,c.png (1), q"d.png (2), e.png (0).
DS = Dataset(LocalStore(Path("/data")), ["a.png", "b,c.png", 'q"d.png', "e.png"], [0, 1, 2], Targets.one_hot(np.array([0, 1, 2, 0]), 3))
RESULTS = [
    RowResult("mixup", [0, 1], [0.25, 0.75], [], False, ""),
    RowResult("cutmix", [1, 2], [0.5, 0.5], [[1, 3, 2, 4]], False, ""),  # box y1 y2 x1 x2
    RowResult("none", [2], [1.0], [], False, "cannot decode image /data/q.png"),  # dropped by --skip-bad
    RowResult("mosaic", [3, 0, 1, 2], [0.1, 0.2, 0.3, 0.4], [[0, 2, 0, 3], [0, 2, 3, 6], [2, 5, 0, 3], [2, 5, 3, 6]], False, ""),
    RowResult("fmix", [0, 2], [0.6, 0.4], [], True, ""),
    RowResult("none", [3], [1.0], [], False, ""),
]
NAMES = [f"images/00000{k}_x.png" for k in range(6)]
MASKS = [f"masks/00000{k}_x.png" for k in range(6)]
HEADER = ["image", "label", "p_0", "p_1", "p_2", "op", "source_a", "source_b", "lam", "x1", "y1", "x2", "y2", "sources", "weights", "boxes", "mask"]
ROWS = [  # what each kept row's fields are, without smoothing
    ["images/000000_x.png", 1, "0.25", "0.75", "0.0", "mixup", "a.png", "b,c.png", "0.25", "", "", "", "", "a.png;b,c.png", "0.25;0.75", "", ""],
    ["images/000001_x.png", 1, "0.0", "0.5", "0.5", "cutmix", "b,c.png", 'q"d.png', "0.5", "2", "1", "4", "3", 'b,c.png;q"d.png', "0.5;0.5", "2 1 4 3", ""],
    ["images/000003_x.png", 2, repr(0.1 + 0.2), "0.3", "0.4", "mosaic", "e.png", "a.png", "0.1", "", "", "", "",
     'e.png;a.png;b,c.png;q"d.png', "0.1;0.2;0.3;0.4", "0 0 3 2;3 0 6 2;0 2 3 5;3 2 6 5", ""],
    ["images/000004_x.png", 0, "0.6", "0.0", "0.4", "fmix", "a.png", 'q"d.png', "0.6", "", "", "", "", 'a.png;q"d.png', "0.6;0.4", "", "masks/000004_x.png"],
    ["images/000005_x.png", 0, "1.0", "0.0", "0.0", "none", "e.png", "", "1.0", "", "", "", "", "e.png", "1.0", "", ""],
]


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_columns_rows_and_the_rows_left_out():
    t = Table(DS, RESULTS, NAMES, MASKS)
    assert t.columns == HEADER and t.soft_columns == ["p_0", "p_1", "p_2"]
    assert len(t) == 5 and t.kept == [0, 1, 3, 4, 5]  # the skipped row 2 is not written
    assert t.ops == ["mixup", "cutmix", "mosaic", "fmix", "none"]
    assert t.labels == [1, 1, 2, 0, 0] and all(isinstance(label, int) for label in t.labels)  # an integer class stays an int
    assert list(t.rows()) == ROWS


def test_box_columns_only_for_the_operations_that_fill_them():
    # cutmix and resizemix write their one box as x1 y1 x2 y2; mosaic and cutout list theirs in boxes only.
    results = [RowResult(op, [0, 1], [0.5, 0.5], [[1, 3, 2, 4], [0, 1, 0, 1]][: 1 if op in ("cutmix", "resizemix") else 2], False, "")
               for op in ("cutmix", "resizemix", "mosaic", "cutout", "mixup")]
    rows = list(Table(DS, results, NAMES[:5], None).rows())
    assert [r[9:13] for r in rows] == [["2", "1", "4", "3"], ["2", "1", "4", "3"], ["", "", "", ""], ["", "", "", ""], ["", "", "", ""]]
    assert [r[15] for r in rows] == ["2 1 4 3", "2 1 4 3", "2 1 4 3;0 0 1 1", "2 1 4 3;0 0 1 1", "2 1 4 3;0 0 1 1"]


def test_csv_text_quotes_commas_and_quotes_as_the_csv_module_reads_them():
    text = Table(DS, RESULTS, NAMES, MASKS).csv_text()
    lines = text.splitlines()
    assert lines[0] == ",".join(HEADER) and len(lines) == 6 and text.endswith("\n")
    assert lines[1] == 'images/000000_x.png,1,0.25,0.75,0.0,mixup,a.png,"b,c.png",0.25,,,,,"a.png;b,c.png",0.25;0.75,,'
    assert lines[2] == 'images/000001_x.png,1,0.0,0.5,0.5,cutmix,"b,c.png","q""d.png",0.5,2,1,4,3,"b,c.png;q""d.png",0.5;0.5,2 1 4 3,'
    assert parsed(text) == [HEADER] + [[str(v) for v in row] for row in ROWS]


def test_a_shards_part_has_the_output_row_first():
    """A sparse table's part is its lines after the output row; a dense table's leaves out the
    label columns, giving where they go and their nonzero weights (index:weight)."""
    text = Table(DS, RESULTS, NAMES, MASKS, sparse=True).csv_text(first=[10, 11, 13, 14, 15])  # one value per row written
    rows = parsed(text)
    assert rows[0][0] == "_row" and rows[0][1:4] == ["image", "label", "soft_label"]
    assert [r[0] for r in rows[1:]] == ["10", "11", "13", "14", "15"]
    rows = parsed(Table(DS, RESULTS, NAMES, MASKS).csv_text(first=[10, 11, 13, 14, 15]))
    assert rows[0] == ["_row", "_at", "_labels", *HEADER]
    assert [r[:3] for r in rows[1:]] == [["10", "22", "0:0.25;1:0.75"], ["11", "22", "1:0.5;2:0.5"], ["13", "22", f"0:{0.1 + 0.2!r};1:0.3;2:0.4"],
                                         ["14", "22", "0:0.6;2:0.4"], ["15", "22", "0:1.0"]]
    assert [r[3:] for r in rows[1:]] == [[str(v) for v in (*row[:2], "", *row[5:])] for row in ROWS]  # the label columns' place left empty


def test_no_rows_is_the_header_alone():
    assert Table(DS, [], [], None).csv_text() == ",".join(HEADER) + "\n"
    assert Table(DS, RESULTS[2:3], NAMES[2:3], None).csv_text() == ",".join(HEADER) + "\n"  # every row skipped


def test_sparse_labels_list_the_nonzero_weights():
    t = Table(DS, RESULTS, NAMES, None, sparse=True)
    assert t.columns == ["image", "label", "soft_label", *HEADER[5:]]
    rows = parsed(t.csv_text())
    assert [r[2] for r in rows[1:]] == ["0:0.25;1:0.75", "1:0.5;2:0.5", f"0:{0.1 + 0.2!r};1:0.3;2:0.4", "0:0.6;2:0.4", "0:1.0"]
    assert [r[-1] for r in rows[1:]] == ["", "", "", "", ""]  # no masks given: none written


def smoothed(eps: float) -> list[list[float]]:
    """Each kept row's weights by the documented formula: sum_k w_k * ((1 - eps) * y_k + eps / K)."""
    y = np.eye(3)[[0, 1, 2, 0]]
    out = []
    for r in (RESULTS[k] for k in (0, 1, 3, 4, 5)):
        total = r.weights[0] * ((1 - eps) * y[r.sources[0]] + eps / 3)
        for s, w in zip(r.sources[1:], r.weights[1:]):
            total = total + w * ((1 - eps) * y[s] + eps / 3)
        out.append(total.tolist())
    return out


def test_label_smoothing_gives_every_class_a_weight():
    rows = list(Table(DS, RESULTS, NAMES, MASKS, smoothing=0.1).rows())
    assert [[float(v) for v in r[2:5]] for r in rows] == smoothed(0.1)
    assert [r[1] for r in rows] == [1, 1, 2, 0, 0]
    assert rows[4][2:5] == [repr(0.9 + 0.1 / 3), repr(0.1 / 3), repr(0.1 / 3)]  # a row passed through is smoothed too
    assert [r[5:] for r in rows] == [r[5:] for r in ROWS]  # nothing else changes
    sparse = parsed(Table(DS, RESULTS, NAMES, MASKS, smoothing=0.1, sparse=True).csv_text())
    assert [[float(pair.split(":")[1]) for pair in r[2].split(";")] for r in sparse[1:]] == smoothed(0.1)  # no weight is 0


def test_smoothed_rows_are_the_same_a_block_at_a_time(monkeypatch):
    whole = Table(DS, RESULTS, NAMES, MASKS, smoothing=0.2).csv_text()
    monkeypatch.setattr(table_module, "BLOCK", 2)  # 5 rows: blocks of 2, 2 and 1
    assert Table(DS, RESULTS, NAMES, MASKS, smoothing=0.2).csv_text() == whole
    assert [[float(v) for v in r[2:5]] for r in parsed(whole)[1:]] == smoothed(0.2)


def test_multi_label_labels_are_the_classes_of_weight_at_least_a_half():
    t = Table(DS, RESULTS, NAMES, MASKS, label_sep="|")
    assert t.labels == ["1", "1|2", "", "0", "0"]
    ds = Dataset(DS.root, DS.images, ["cat", "dog", "owl"], DS.targets)
    assert Table(ds, RESULTS, NAMES, MASKS).labels == ["dog", "dog", "owl", "cat", "cat"]
    assert Table(ds, RESULTS, NAMES, MASKS, smoothing=0.1, label_sep=";").labels == ["dog", "", "", "cat", "cat"]  # 0.5 smoothed is under a half


def test_string_classes_name_the_soft_columns():
    ds = Dataset(DS.root, DS.images, ["cat", "dog", "owl"], DS.targets)
    t = Table(ds, RESULTS, NAMES, MASKS)
    assert t.columns[:5] == ["image", "label", "p_cat", "p_dog", "p_owl"]
    assert parsed(Table(ds, RESULTS, NAMES, MASKS, sparse=True).csv_text())[1][2] == "cat:0.25;dog:0.75"


def test_placed_files_each_image_under_its_label():
    t = Table(DS, RESULTS, NAMES, MASKS, placed=Out.placed)
    assert t.images == ["images/1/000000_x.png", "images/1/000001_x.png", "images/2/000003_x.png", "images/0/000004_x.png", "images/0/000005_x.png"]
    assert [r[0] for r in parsed(t.csv_text())[1:]] == t.images
    assert Table(DS, RESULTS, NAMES, MASKS, placed=None).images == [NAMES[k] for k in (0, 1, 3, 4, 5)]


def test_a_mask_is_written_only_for_a_row_that_made_one():
    masks = list(Table(DS, RESULTS, NAMES, MASKS).masks)
    assert masks == ["", "", "", "masks/000004_x.png", ""]


def test_skipped_rows_are_each_bad_input_row_once_in_input_order():
    results = [RowResult("none", [3], [1.0], [], False, "bad three"), RowResult("none", [1], [1.0], [], False, "bad one"),
               RowResult("none", [3], [1.0], [], False, "bad three again"), RowResult("mixup", [0, 2], [0.5, 0.5], [], False, "")]
    assert skipped_rows(DS, results) == [(1, "b,c.png", "bad one"), (3, "e.png", "bad three")]
    assert skipped_rows(DS, RESULTS) == [(2, 'q"d.png', "cannot decode image /data/q.png")]


@pytest.mark.parametrize("sparse", [False, True])
def test_the_columns_module_reads_a_parts_lines_back(sparse):
    from mixcli import columns

    lines = Table(DS, RESULTS, NAMES, MASKS, sparse=sparse).csv_text(first=[10, 11, 13, 14, 15]).splitlines()
    assert columns.part_header_ok(lines[0]) and not columns.part_header_ok(",".join(HEADER)) and not columns.part_header_ok(None)
    assert [columns.part_row(line) for line in lines[1:]] == [10, 11, 13, 14, 15]
    whole = Table(DS, RESULTS, NAMES, MASKS, sparse=sparse).csv_text().splitlines()
    line_of = columns.part_reader(lines[0])
    assert columns.part_header(lines[0] + "\n") == whole[0] + "\n"
    assert [line_of(line) for line in lines[1:]] == whole[1:]
    assert [columns.files_of(line_of(line)) for line in lines[1:]] == [
        ["images/000000_x.png"], ["images/000001_x.png"], ["images/000003_x.png"], ["images/000004_x.png", "masks/000004_x.png"], ["images/000005_x.png"]]


@pytest.mark.parametrize("classes, sparse, eps", [(1, False, 0.0), (7, False, 0.0), (7, True, 0.0), (7, False, 0.1), (1000, False, 0.0), (1000, True, 0.0)])
def test_the_written_csv_is_the_rows_as_the_csv_module_writes_them(classes, sparse, eps):
    """write cuts dense label fields from a line of zeros (issue 19's speed-up): its text is what
    csv.writer makes of rows(), field for field, for one class, a few, a thousand, sparse and smoothed."""
    rng = np.random.default_rng(classes)
    labels = rng.integers(0, classes, 40)
    names = [f"img{i}," + ('q"' if i % 3 == 0 else "") + ".png" for i in range(40)]
    ds = Dataset(LocalStore(Path("/data")), names, [f"c{k}" for k in range(classes)], Targets.one_hot(labels, classes))
    results = []
    for i in range(40):
        j, lam = int(rng.integers(0, 40)), float(rng.random())
        results.append(RowResult("mixup", [i, j], [lam, 1 - lam], [], False, "") if i % 4 else RowResult("none", [i], [1.0], [], False, ""))
    names_out = [f"images/{k:06d}_x.png" for k in range(40)]
    t = Table(ds, results, names_out, None, smoothing=eps, sparse=sparse)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([[*map(str, fields)] for fields in t.rows()])
    assert t.csv_text().split("\n", 1)[1] == buf.getvalue()
    part = t.csv_text(first=list(range(100, 140))).splitlines(keepends=True)  # and a shard's part reads back to the same lines
    line_of = columns.part_reader(part[0])
    assert "".join(line_of(line) for line in part[1:]) == buf.getvalue()
    assert [columns.part_row(line) for line in part[1:]] == list(range(100, 140))

"""OUT as one object (mixcli.outdir.Out) on a local store: every name under OUT, the checks and
preparation of the folder, cleaning up what an earlier run left, and the run's record under
OUT/.mixcli (Out.state): start, join, shards done and missing, journals, finishing."""

import hashlib
import json

import pytest

from mixcli.errors import MixcliError
from mixcli.outdir import Out
from mixcli.outdir.state import run_record
from mixcli.records import ChunkResult, RowResult, ShardStats
from mixcli.store import LocalStore
from mixcli.version import __version__


@pytest.fixture
def out(tmp_path) -> Out:
    return Out(LocalStore(tmp_path / "out"))


def put(out: Out, *keys: str) -> None:
    """Files (their key as their bytes) under OUT, folders made as needed."""
    for key in keys:
        path = out.store.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(key.encode())


# ---------------------------------------------------------------- names


def test_the_layout_is_named_once():
    assert (Out.TABLE, Out.SKIPPED, Out.IMAGES, Out.MASKS, Out.TARS) == ("train.csv", "skipped.csv", "images", "masks", "shards")
    assert (Out.STATE, Out.RUN, Out.WORK, Out.STAGE) == (".mixcli", ".mixcli/run.json", ".mixcli/shards", ".mixcli/stage")
    assert (Out.PART, Out.STATS, Out.JOURNAL) == (".csv", ".json", ".journal")


def test_image_names_are_the_output_row_and_a_safe_stem():
    names = ["a/cat.png", "dog.jpg", "000012_x.png", "c d é.png", "...png", "sub\\win.tif", "x" * 60 + ".png", "001_y.png"]
    assert Out.image_names(names, ".jpg") == [
        "images/000000_cat.jpg", "images/000001_dog.jpg",
        "images/000002_x.jpg",  # a previous mixcli output's row number dropped when chaining
        "images/000003_c_d.jpg", "images/000004.jpg", "images/000005_win.jpg",
        "images/000006_" + "x" * 48 + ".jpg",  # stems cut at 48 characters
        "images/000007_001_y.jpg",  # fewer than 6 digits: not a row number
    ]


def test_image_names_of_copies_and_originals_are_copy_major():
    assert Out.image_names(["a.png", "b.png"], ".png", copies=2, originals=True) == [
        "images/000000_a.png", "images/000001_b.png", "images/000002_a.png", "images/000003_b.png", "images/000004_a.png", "images/000005_b.png"]


def test_image_names_widen_past_a_million_rows():
    names = Out.image_names(["a.png", "b.png"], ".png", copies=500_001)
    assert len(names) == 1_000_002 and names[0] == "images/0000000_a.png" and names[-1] == "images/1000001_b.png"
    assert len(set(names)) == len(names)


def test_mask_names_sit_beside_the_image_names():
    assert Out.mask_names(["images/000001_cat.jpg", "images/cat/000002_x.v2.jpg"]) == ["masks/000001_cat.png", "masks/000002_x.v2.png"]


def test_label_folders_are_safe_names():
    assert [Out.label_folder(label) for label in ["cat", "a/b", "..", "../up", 3, "", "ü"]] == ["cat", "a_b", "_", "up", "3", "_", "_"]
    long = "x" * 300
    assert Out.label_folder(long) == "x" * 100 + "_" + hashlib.sha256(long.encode()).hexdigest()[:12]
    assert Out.label_folder(long + "y") != Out.label_folder(long) and len(Out.label_folder(long + "y")) == 113


def test_placed_staged_tars_and_work_files():
    assert Out.placed("images/000001_x.jpg", "cat") == "images/cat/000001_x.jpg"
    assert Out.placed("images/000001_x.jpg", 3) == "images/3/000001_x.jpg"
    assert Out.placed("images/000001_x.jpg", "../up") == "images/up/000001_x.jpg"
    assert Out.staged("images/000001_x.jpg") == ".mixcli/stage/images/000001_x.jpg"
    assert Out.tar(3) == "shards/000003.tar" and Out.tar(1234567) == "shards/1234567.tar"
    assert Out.sample_key("images/000123_cat.v2.jpg") == "000123_cat_v2"
    assert Out.in_tar(3, "images/000123_cat.v2.jpg") == "shards/000003.tar/000123_cat_v2.jpg"
    assert Out.in_tar(3, "images/000123_cat.v2.jpg", mask=True) == "shards/000003.tar/000123_cat_v2.mask.png"
    assert Out.work(3, Out.PART) == ".mixcli/shards/000003.csv"
    assert Out.work(3, Out.STATS) == ".mixcli/shards/000003.json"
    assert Out.work(12, Out.JOURNAL) == ".mixcli/shards/000012.journal"


def test_an_out_is_named_as_its_store(out, tmp_path):
    assert str(out) == str(tmp_path / "out") and out.where("train.csv") == str(tmp_path / "out" / "train.csv")
    assert out.state.out is out and out.state.store is out.store


# ---------------------------------------------------------------- the folder


def test_check_refuses_an_overlap_a_file_and_a_folder_not_empty(out, tmp_path):
    data = LocalStore(tmp_path / "data")
    out.check([data], reuse=False)  # not there yet: fine
    out.store.root.mkdir()
    out.check([data], reuse=False)  # empty: fine
    put(out, "notes.txt")
    with pytest.raises(MixcliError, match=f"^OUT {out} exists and is not empty: use --overwrite to write into it, or --resume$"):
        out.check([data], reuse=False)
    out.check([data], reuse=True)
    with pytest.raises(MixcliError, match=f"^OUT {out} overlaps the input folder {tmp_path}: choose a separate output folder$"):
        out.check([data, LocalStore(tmp_path)], reuse=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(MixcliError, match=f"^OUT {tmp_path / 'file'} exists and is not a folder$"):
        Out(LocalStore(tmp_path / "file")).check([data], reuse=True)


def test_prepare_makes_the_record_and_the_folders_never_through_a_symlink(out, tmp_path):
    out.prepare([LocalStore(tmp_path / "data")], reuse=False, folders=["images", "masks"])
    assert sorted(p.name for p in out.store.root.iterdir()) == [".mixcli", "images", "masks"]
    (tmp_path / "elsewhere").mkdir()
    other = Out(LocalStore(tmp_path / "other"))
    other.store.root.mkdir()
    (other.store.root / "images").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(MixcliError, match="images is not a plain folder"):
        other.prepare([], reuse=True, folders=["images"])
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_holds_only_mixcli(out):
    assert not out.holds_only_mixcli()  # no folder
    out.store.root.mkdir()
    assert out.holds_only_mixcli()  # empty
    for folder in (".mixcli", "images", "masks", "shards"):
        out.store.make_folder(folder)
    put(out, "images/000000_a.jpg", ".mixcli/run.json")
    assert out.holds_only_mixcli()
    put(out, "train.csv")
    assert not out.holds_only_mixcli()
    out.store.delete(["train.csv"])
    out.store.make_folder("other")
    assert not out.holds_only_mixcli()


def test_holds_only_mixcli_wants_folders_by_those_names(tmp_path):
    out = Out(LocalStore(tmp_path / "o"))
    put(out, "images")  # a file named images
    assert not out.holds_only_mixcli()


def test_remove_unlisted_keeps_one_runs_images_and_masks_and_nothing_else_is_touched(out):
    put(out, "images/000000_a.jpg", "images/000001_b.jpg", "images/cat/000002_c.jpg", "images/dog/old.jpg", "images/sub/deeper/x.jpg",
         "masks/000001_b.png", "masks/000009_z.png", "notes.txt", ".mixcli/run.json", "train.csv")
    listed = ["images/000000_a.jpg", "images/cat/000002_c.jpg", "masks/000001_b.png"]
    assert out.remove_unlisted(listed, []) == 4
    assert out.store.files() == sorted([".mixcli/run.json", "images/000000_a.jpg", "images/cat/000002_c.jpg", "masks/000001_b.png", "notes.txt", "train.csv"])
    assert out.store.entries("images") == [("000000_a.jpg", False), ("cat", True)]  # emptied folders gone
    assert out.remove_unlisted(listed, []) == 0


def test_remove_unlisted_does_not_delete_through_a_symlinked_images_folder(out, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "keep.jpg").write_bytes(b"x")
    out.store.root.mkdir()
    (out.store.root / "images").symlink_to(tmp_path / "elsewhere")
    put(out, "masks/old.png")
    assert out.remove_unlisted([], []) == 1
    assert (tmp_path / "elsewhere" / "keep.jpg").exists() and not out.store.exists("masks/old.png")


def test_remove_stale_tars_deletes_only_mixcli_tars_train_csv_does_not_point_into(out):
    assert out.remove_stale_tars([]) == 0  # no shards folder
    put(out, "shards/000000.tar", "shards/000001.tar", "shards/000002.tar", "shards/notes.tar", "shards/0000001.tar", "shards/readme.txt")
    out.store.make_folder("shards/000003.tar")
    listed = ["shards/000000.tar/000000_a.jpg", "shards/000000.tar/000001_b.jpg", "shards/000002.tar/000040_c.mask.png", "images/x.jpg"]
    assert out.remove_stale_tars(listed) == 1
    assert out.store.entries("shards") == [("000000.tar", False), ("0000001.tar", False), ("000002.tar", False), ("000003.tar", True),
                                           ("notes.tar", False), ("readme.txt", False)]


def test_remove_temporaries_looks_in_outs_folders(out):
    temporaries = [".train.csv.tmp1", "images/.a.jpg.tmp2", "images/cat/.b.jpg.tmp3-0123abcd", "masks/.c.png.tmp4", ".mixcli/.run.json.tmp5",
                   ".mixcli/stage/images/.d.jpg.tmp6", ".mixcli/stage/masks/.e.png.tmp7", "shards/.000000.tar.tmp8", ".mixcli/shards/.000000.csv.tmp9"]
    kept = ["train.csv", "images/a.jpg", "other/.f.jpg.tmp1", "images/cat/sub/.g.jpg.tmp1"]
    put(out, *temporaries, *kept)
    assert out.remove_temporaries() == len(temporaries)
    assert out.store.files() == sorted(kept)


# ---------------------------------------------------------------- the record


STATE = run_record({"op": "mixup", "alpha": 0.2}, "ab" * 32, 40, 3)


def test_run_record():
    assert STATE == {"mixcli": __version__, "options": {"op": "mixup", "alpha": 0.2}, "input_sha256": "ab" * 32, "rows": 40, "shards": 3}


def test_start_records_a_run_with_no_shard_done(out):
    out.store.root.mkdir()
    assert not out.state.exists()
    put(out, ".mixcli/shards/000001.json", ".mixcli/shards/000002.csv", ".mixcli/shards/000000.journal")  # an earlier run's
    out.state.start(STATE)
    assert out.state.exists() and out.state.read() == STATE and out.state.shards() == 3
    assert out.store.read(Out.RUN) == (json.dumps(STATE, indent=1, sort_keys=True) + "\n").encode()
    assert out.store.files(Out.WORK) == [] and out.state.missing(3) == [0, 1, 2]


def test_join_records_the_run_unless_another_group_has(out):
    out.store.root.mkdir()
    out.state.join(STATE)
    assert out.state.read() == STATE and out.store.is_folder(Out.WORK)
    out.state.join({**STATE, "rows": 99})  # a second group's: the first stays (the caller compares them)
    assert out.state.read() == STATE


def test_a_record_of_another_version_or_unreadable(out):
    put(out, Out.RUN)
    out.store.write(Out.RUN, json.dumps({"mixcli": "0.1", "options": {}}).encode())
    assert out.state.shards() is None
    out.store.write(Out.RUN, b"{not json")
    with pytest.raises(MixcliError, match=f"^cannot read {out.where(Out.RUN)}: start again with --overwrite$"):
        out.state.read()


def chunk(c: int, rows: list[int]) -> ChunkResult:
    result = ChunkResult(chunk=c, rows=[], seconds=0.5)
    for r in rows:
        result.add(r, RowResult("mixup", [r, r + 1], [0.25, 0.75], [], False, ""))
    return result


def test_journal_keeps_each_finished_chunk_once(out):
    out.store.root.mkdir()
    out.state.start(STATE)
    assert out.state.journal(1) == []
    out.state.append(1, chunk(4, [64, 65]))
    out.state.append(1, chunk(5, [80]))
    out.state.append(1, chunk(4, [64, 65]))  # a group run twice at once: the same chunk twice
    assert out.state.journal(1) == [chunk(4, [64, 65]), chunk(5, [80])]
    journal = out.store.path(Out.work(1, Out.JOURNAL))
    assert journal.read_text().splitlines()[0] == json.dumps(vars(chunk(4, [64, 65])))
    with open(journal, "ab") as f:  # a line of another shape, then a line cut short by a kill
        f.write(b'{"chunk": 7, "unknown": 1}\n[1, 2]\n{"chunk": 6, "rows": [9')
    assert out.state.journal(1) == [chunk(4, [64, 65]), chunk(5, [80])]
    out.state.append(1, chunk(6, [96]))
    assert out.state.journal(1) == [chunk(4, [64, 65]), chunk(5, [80]), chunk(6, [96])]
    assert out.state.journal(0) == []  # another shard's


def test_finish_shard_writes_its_part_then_its_stats_and_drops_its_journal(out):
    out.store.root.mkdir()
    out.state.start(STATE)
    out.state.append(2, chunk(9, [144]))
    stats = ShardStats(shard=2, rows=1, ops={"mixup": 1}, skipped=[], seconds=0.5)
    assert not out.state.shard_done(2) and not out.state.has_part(2)
    out.state.finish_shard(2, lambda text: text.write("_row,image\n144,images/000144_a.jpg\n"), stats)
    assert out.state.shard_done(2) and out.state.has_part(2) and out.state.missing(3) == [0, 1]
    assert out.state.shard_stats(2) == stats
    assert out.store.read(Out.work(2, Out.STATS)) == b'{"dropped": 0, "objects": 0, "ops": {"mixup": 1}, "rows": 1, "seconds": 0.5, "shard": 2, "skipped": []}\n'
    with out.state.open_part(2) as f:
        assert f.read() == "_row,image\n144,images/000144_a.jpg\n"
    assert not out.store.exists(Out.work(2, Out.JOURNAL)) and out.state.journal(2) == []


def test_unreadable_stats_name_the_shard_to_rerun(out):
    put(out, Out.work(1, Out.STATS))
    with pytest.raises(MixcliError, match=f"^cannot read {out.where(Out.work(1, Out.STATS))}: rerun that shard$"):
        out.state.shard_stats(1)


def test_finish_drops_the_parts_and_keeps_the_record(out):
    out.store.root.mkdir()
    out.state.start(STATE)
    for s in range(3):
        out.state.finish_shard(s, lambda text: text.write("_row,image\n"), ShardStats(shard=s, rows=0, ops={}, skipped=[], seconds=0.0))
    out.state.finish(3)
    assert out.store.files(Out.STATE) == ["run.json", "shards/000000.json", "shards/000001.json", "shards/000002.json"]
    assert out.state.missing(3) == [] and out.state.read() == STATE


def test_an_input_named_by_digits_alone_keeps_them_in_its_output_name():
    """Only a previous output's row prefix (digits then _) is dropped: numeric ids (Kaggle's
    000123.jpg) stay; imagefolder names (stems=False) hold the output row alone."""
    images = ["000123.jpg", "images/000007_cat.jpg", "images/000009.jpg"]
    assert Out.image_names(images, ".jpg") == ["images/000000_000123.jpg", "images/000001_cat.jpg", "images/000002_000009.jpg"]
    assert Out.image_names(images, ".png", stems=False) == ["images/000000.png", "images/000001.png", "images/000002.png"]

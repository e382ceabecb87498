"""The store layer (mixcli.store): LocalStore's interface one call at a time (files whole or absent,
exclusive writes, batches, logs of records, listings, deletes, folders, temporaries), the names of
an ObjectStore (no request sent), and open_store / open_file. The object store's requests are
tested against moto's S3 server in tests/test_s3.py."""

import os
from pathlib import Path

import pytest

from mixcli.errors import MixcliError, UsageError
from mixcli.store import STORES, LocalStore, ObjectStore, open_file, open_store
from mixcli.store import atomic


@pytest.fixture(params=["O_TMPFILE", "rename"])
def store(request, tmp_path, monkeypatch) -> LocalStore:
    """A LocalStore on an empty folder, writing each of its two ways (O_TMPFILE where the platform
    has it; a temporary renamed, the way off Linux)."""
    if request.param == "O_TMPFILE" and not hasattr(os, "O_TMPFILE"):
        pytest.skip("no O_TMPFILE on this platform")
    monkeypatch.setitem(atomic._tmpfile, "off", request.param == "rename")
    monkeypatch.setitem(atomic._tmpfile, "pid", None)
    root = tmp_path / "store"
    root.mkdir()
    yield LocalStore(root)
    assert atomic._tmpfile["off"] == (request.param == "rename")  # the way asked for was the one taken


def everything(root: Path) -> list[str]:
    """Every file and folder under root, hidden ones too, as sorted relative paths."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ---------------------------------------------------------------- names


def test_a_local_store_names_paths_as_pathlib_joins_them(tmp_path):
    s = LocalStore(tmp_path / "out")
    assert s.where() == str(tmp_path / "out") and s.where("images/a.png") == str(tmp_path / "out" / "images" / "a.png")
    assert s.path() == tmp_path / "out" and s.path("a") == tmp_path / "out" / "a"
    assert s.sub("images") == LocalStore(tmp_path / "out" / "images")
    assert s.parent() == (LocalStore(tmp_path), "out")
    assert LocalStore(Path("rel")).absolute() == LocalStore(Path("rel").resolve())
    assert s.where(str(tmp_path / "elsewhere.png")) == str(tmp_path / "elsewhere.png")  # a CSV may list absolute paths
    assert s == LocalStore(str(tmp_path / "out")) and hash(s) == hash(LocalStore(tmp_path / "out")) and s != LocalStore(tmp_path)
    assert repr(s) == f"LocalStore({str(tmp_path / 'out')!r})"


def test_overlaps_is_one_folder_holding_the_other(tmp_path):
    data = LocalStore(tmp_path / "data")
    assert data.overlaps(data) and data.overlaps(LocalStore(tmp_path / "data" / "train" / "out"))
    assert LocalStore(tmp_path / "data" / "out").overlaps(data)
    assert LocalStore(tmp_path / "data" / "..").overlaps(data)  # resolved, not compared as text
    assert not data.overlaps(LocalStore(tmp_path / "data2")) and not data.overlaps(LocalStore(tmp_path / "out"))
    assert not data.overlaps(ObjectStore("s3", "bucket/data"))
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert LocalStore(tmp_path / "link" / "out").overlaps(LocalStore(tmp_path / "real"))  # through a symlink too


def test_an_object_store_names_keys_under_its_prefix_without_a_request():
    s = ObjectStore("s3", "/bucket/run/")
    assert s.prefix == "bucket/run" and s.key() == "bucket/run" and s.key("images/a.jpg") == "bucket/run/images/a.jpg"
    assert s.key("a/../b.jpg") == "bucket/run/b.jpg"
    assert s.where() == "s3://bucket/run" and s.where(".mixcli/run.json") == "s3://bucket/run/.mixcli/run.json"
    assert s.sub("images") == ObjectStore("s3", "bucket/run/images")
    assert s.parent() == (ObjectStore("s3", "bucket"), "run")
    assert s == ObjectStore("s3", "bucket/run") and hash(s) == hash(ObjectStore("s3", "bucket/run")) and s != ObjectStore("gs", "bucket/run")
    assert repr(s) == "ObjectStore('s3://bucket/run')"
    assert s.overlaps(ObjectStore("s3", "bucket")) and s.overlaps(ObjectStore("s3", "bucket/run/out"))
    assert not s.overlaps(ObjectStore("s3", "bucket/running")) and not s.overlaps(ObjectStore("gs", "bucket/run"))
    assert not s.overlaps(LocalStore(Path("bucket/run")))


# ---------------------------------------------------------------- open_store, open_file


def test_open_store_takes_a_path_a_file_url_or_an_object_store_url(tmp_path):
    assert open_store(tmp_path / "x") == LocalStore(tmp_path / "x")
    assert open_store(str(tmp_path / "x")) == LocalStore(tmp_path / "x")
    assert open_store("relative/x") == LocalStore(Path("relative/x"))
    assert open_store(f"file://{tmp_path}/x") == LocalStore(tmp_path / "x")
    for protocol in STORES:
        assert open_store(f"{protocol}://bucket/a/b") == ObjectStore(protocol, "bucket/a/b")
    assert open_store("s3://bucket//a/./b/") == ObjectStore("s3", "bucket/a/b")
    assert open_store("s3://bucket/a/../../../etc") == ObjectStore("s3", "etc")  # normalised from the root: never above it


@pytest.mark.parametrize("url, words", [
    ("ftp://host/out", "ftp://host/out: mixcli reads and writes local folders and object stores (s3://, s3a://, gs://, gcs://, az://, abfs://), not ftp://"),
    ("http://host/data", "not http://"),
    ("s3://", "s3://: name a bucket (and a prefix), e.g. s3://bucket/data"),
    ("gs:///", "gs:///: name a bucket"),
])
def test_open_store_refuses_other_protocols_and_no_bucket(url, words):
    with pytest.raises(UsageError) as e:
        open_store(url)
    assert words in str(e.value) and str(e.value).startswith(url + ": ")


def test_open_file_is_the_store_of_its_folder_and_its_key(tmp_path):
    assert open_file(tmp_path / "meta" / "list.csv") == (LocalStore(tmp_path / "meta"), "list.csv")
    assert open_file(f"file://{tmp_path}/train.csv") == (LocalStore(tmp_path), "train.csv")
    assert open_file("s3://bucket/run/train.csv") == (ObjectStore("s3", "bucket/run"), "train.csv")
    with pytest.raises(UsageError, match="not ftp://"):
        open_file("ftp://host/train.csv")


# ---------------------------------------------------------------- writing and reading


def test_write_then_read(store):
    store.write("a.bin", b"first")
    assert store.read("a.bin") == b"first"
    store.write("a.bin", b"second, longer")  # replaced whole
    assert store.read("a.bin") == b"second, longer"
    store.make_folder("sub/deeper")
    store.write("sub/deeper/b.bin", b"")
    assert store.read("sub/deeper/b.bin") == b""
    assert everything(store.root) == ["a.bin", "sub", "sub/deeper", "sub/deeper/b.bin"]  # no temporary left
    with pytest.raises(FileNotFoundError):
        store.read("missing.bin")


def test_reader_open_and_open_text(store):
    store.write("a", b"A")
    store.write("b", b"line one\r\nline two\n")
    read = store.reader(["b", "a", "missing"])
    assert read(1) == b"A" and read(0) == b"line one\r\nline two\n"
    with pytest.raises(OSError):
        read(2)
    with store.open("b") as f:
        assert f.read(4) == b"line" and f.read() == b" one\r\nline two\n"
    with store.open_text("b") as f:
        assert f.read() == "line one\r\nline two\n"  # newlines as written


def test_exclusive_write_refuses_an_existing_file(store):
    store.write("run.json", b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        store.write("run.json", b"second", exclusive=True)
    assert store.read("run.json") == b"first"
    assert everything(store.root) == ["run.json"]  # its temporary is gone either way


def test_write_with_leaves_nothing_when_fill_raises(store):
    def fill(f):
        f.write(b"half an image")
        raise RuntimeError("the encoder failed")

    with pytest.raises(RuntimeError, match="the encoder failed"):
        store.write_with("new.png", fill)
    assert everything(store.root) == []
    store.write("old.png", b"an earlier run's")
    with pytest.raises(RuntimeError, match="the encoder failed"):
        store.write_with("old.png", fill)
    assert store.read("old.png") == b"an earlier run's" and everything(store.root) == ["old.png"]
    store.write_with("new.png", lambda f: (f.write(b"whole "), f.write(b"image")))
    assert store.read("new.png") == b"whole image"


def test_write_text_with_writes_utf8_with_newlines_as_written(store):
    store.write_text_with("t.csv", lambda f: f.write("image,label\r\nç.png,ü\n"))
    assert store.read("t.csv") == "image,label\r\nç.png,ü\n".encode()


@pytest.mark.parametrize("way", ["O_TMPFILE", "rename"])
def test_a_write_into_a_missing_folder_is_one_line(tmp_path, monkeypatch, way):
    # (Not through the store fixture: on the O_TMPFILE way, the ENOENT of a missing folder turns
    # that way off for the process, as a file system without O_TMPFILE would.)
    if way == "O_TMPFILE" and not hasattr(os, "O_TMPFILE"):
        pytest.skip("no O_TMPFILE on this platform")
    monkeypatch.setitem(atomic._tmpfile, "off", way == "rename")
    monkeypatch.setitem(atomic._tmpfile, "pid", None)
    store = LocalStore(tmp_path)
    with pytest.raises(MixcliError, match=f"^cannot write {tmp_path / 'no' / 'a.bin'}: No such file or directory$"):
        store.write("no/a.bin", b"x")
    assert everything(tmp_path) == []


def test_batch_writes_every_file_by_the_end_of_the_block(store):
    store.make_folder("images")
    with store.batch() as put:
        for k in range(3):
            put(f"images/{k}.png", b"%d" % k)
    assert [store.read(f"images/{k}.png") for k in range(3)] == [b"0", b"1", b"2"]
    assert store.files("images") == ["0.png", "1.png", "2.png"]


# ---------------------------------------------------------------- logs of records


def test_append_and_records(store):
    assert store.records("j.journal") == []  # no log yet
    store.append("j.journal", "000000.json", b'{"chunk": 0}')
    store.append("j.journal", "000003.json", b'{"chunk": 3}')
    assert store.records("j.journal") == [b'{"chunk": 0}', b'{"chunk": 3}']
    assert store.read("j.journal") == b'{"chunk": 0}\n{"chunk": 3}\n'  # a local log is a file of lines


def test_a_record_cut_short_by_a_kill_is_dropped_from_the_log(store):
    (store.root / "j.journal").write_bytes(b'{"chunk": 0}\n{"chunk": 1}\n{"chu')
    assert store.records("j.journal") == [b'{"chunk": 0}', b'{"chunk": 1}']
    assert store.read("j.journal") == b'{"chunk": 0}\n{"chunk": 1}\n'  # gone from the file too
    store.append("j.journal", "000002.json", b'{"chunk": 2}')  # so the next record starts a line
    assert store.records("j.journal") == [b'{"chunk": 0}', b'{"chunk": 1}', b'{"chunk": 2}']
    (store.root / "k.journal").write_bytes(b'{"chu')  # the first record cut short: nothing left
    assert store.records("k.journal") == [] and store.read("k.journal") == b""


# ---------------------------------------------------------------- looking


@pytest.fixture
def tree(tmp_path) -> LocalStore:
    """a.txt, .hidden, images/{x.png, .x.png.tmp1, sub/y.png}, .mixcli/run.json, empty/, link -> elsewhere/ (a folder)."""
    root = tmp_path / "t"
    for name in ("a.txt", ".hidden", "images/x.png", "images/.x.png.tmp1", "images/sub/y.png", ".mixcli/run.json"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(name.encode())
    (root / "empty").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "z.png").write_bytes(b"z")
    (root / "link").symlink_to(tmp_path / "elsewhere")
    return LocalStore(root)


def test_kind_exists_and_links(tree):
    assert [tree.kind(k) for k in ("", "a.txt", "images", "images/sub", "nothing", "link")] == ["folder", "file", "folder", "folder", None, "folder"]
    assert tree.exists("a.txt") and tree.exists() and not tree.exists("nothing")
    assert tree.is_file("a.txt") and not tree.is_file("images") and tree.is_folder("images") and tree.is_folder()
    assert tree.is_link("link") and not tree.is_link("images") and not tree.is_link("nothing")
    assert LocalStore(tree.root / "nothing").kind() is None


def test_entries_are_what_is_right_under_a_folder_sorted(tree):
    assert tree.entries() == [(".hidden", False), (".mixcli", True), ("a.txt", False), ("empty", True), ("images", True), ("link", True)]
    assert tree.entries("images") == [(".x.png.tmp1", False), ("sub", True), ("x.png", False)]
    assert tree.entries("empty") == [] and tree.entries("nothing") == [] and tree.entries("a.txt") == []


def test_files_are_every_file_below_any_depth_a_linked_folder_not_walked(tree):
    assert tree.files() == [".hidden", ".mixcli/run.json", "a.txt", "images/.x.png.tmp1", "images/sub/y.png", "images/x.png", "link"]
    assert tree.files(hidden=False) == ["a.txt", "images/sub/y.png", "images/x.png", "link"]
    assert tree.files("images") == [".x.png.tmp1", "sub/y.png", "x.png"]
    assert tree.files("empty") == [] and tree.files("nothing") == [] and tree.files("a.txt") == []


def test_has_says_which_keys_are_files(tree):
    assert tree.has(["a.txt", "images", "images/sub/y.png", "nothing", "link/z.png"]) == [True, False, True, False, True]


# ---------------------------------------------------------------- deleting


def test_delete_removes_the_files_that_are_there(tree):
    tree.delete(["a.txt", "images/x.png", "nothing", "images/sub/nothing.png"])
    assert not tree.exists("a.txt") and not tree.exists("images/x.png") and tree.is_file("images/sub/y.png")


def test_delete_tree_removes_a_folder_a_file_or_a_link_only(tree, tmp_path):
    tree.delete_tree("images")
    assert not tree.exists("images")
    tree.delete_tree(".mixcli/run.json")
    assert tree.is_folder(".mixcli") and tree.entries(".mixcli") == []
    tree.delete_tree("link")  # the link, not what it points to
    assert not tree.root.joinpath("link").is_symlink() and (tmp_path / "elsewhere" / "z.png").read_bytes() == b"z"
    tree.delete_tree("nothing")  # nothing there: nothing to do


def test_prune_removes_the_empty_folders_below_a_folder(tree):
    tree.make_folder("images/a/b/c")
    tree.make_folder("images/d")
    tree.delete(["images/sub/y.png"])
    tree.prune("images")
    assert tree.files("images") == [".x.png.tmp1", "x.png"] and tree.entries("images") == [(".x.png.tmp1", False), ("x.png", False)]
    tree.delete(["images/.x.png.tmp1", "images/x.png"])
    tree.prune("images")
    assert tree.is_folder("images") and tree.entries("images") == []  # the folder itself stays
    tree.prune("nothing")
    tree.prune("link")  # not through a symlink
    assert (tree.root / "link" / "z.png").exists()


# ---------------------------------------------------------------- folders and temporaries


def test_make_folder_makes_parents_and_refuses_a_symlink_or_a_file_in_its_place(tree, tmp_path):
    tree.make_folder("new/deeper")
    tree.make_folder("new/deeper")  # there already: fine
    assert tree.is_folder("new/deeper")
    with pytest.raises(MixcliError, match=f"^{tree.root / 'link'} is not a plain folder: refusing to write through it$"):
        tree.make_folder("link")
    with pytest.raises(MixcliError, match=f"^cannot create {tree.root / 'a.txt'}: File exists$"):  # as a label folder's was
        tree.make_folder("a.txt")
    with pytest.raises(MixcliError, match=f"^cannot create {tree.root / 'a.txt' / 'sub'}: "):
        tree.make_folder("a.txt/sub")
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["z.png"]


def test_remove_temporaries_deletes_what_killed_writes_left(tmp_path):
    root = tmp_path / "out"
    temporaries = [".a.png.tmp123", ".b.png.tmp45-0123abcd", "images/.c.png.tmp9", "images/cat/.d.png.tmp7-deadbeef", "stage/.e.tmp1"]
    kept = ["a.png", ".hidden", ".a.png.tmp", ".a.png.tmpx", "images/.c.png.tmp9-nothex00", "images/cat/d.png", "images/cat/sub/.f.png.tmp3", "other/.g.png.tmp1"]
    for name in temporaries + kept:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    (root / "images" / ".folder.tmp1").mkdir()  # a folder is never one of them
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / ".h.png.tmp1").write_bytes(b"not OUT's")
    (root / "images" / "linked").symlink_to(tmp_path / "elsewhere")  # not walked into
    store = LocalStore(root)
    assert store.remove_temporaries(["", "images", "stage", "missing"], nested=["images"]) == len(temporaries)
    assert store.files() == sorted(kept + ["images/linked"])
    assert (root / "images" / ".folder.tmp1").is_dir() and (tmp_path / "elsewhere" / ".h.png.tmp1").exists()
    assert store.remove_temporaries(["", "images"], nested=["images"]) == 0

"""Bad input, interruptions and hostile names: every case has a defined, asserted outcome."""

import errno
import hashlib
import json
import os
import signal
import subprocess
import zlib
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import assert_one_line_error, big_data, invoke, invoke_ok, mixcli_command, out_files, start, wait_for_journal, write_dataset
from mixcli.outdir import Out
from mixcli.store import atomic as writer
from mixcli.data.csvfile import read_table
from mixcli.errors import MixcliError
from mixcli.pixels.codec import checked, read_image

FIXTURES = Path(__file__).resolve().parent / "data"


def digest_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


# ---- the matrix: (case, set-up on DATA, extra options, exit code, words in the one stderr line) ----

def _png(h, w, seed=0):
    return cv2.imencode(".png", np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))[1].tobytes()


def _jpeg(h, w, seed=0):
    return cv2.imencode(".jpg", np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))[1].tobytes()


def _csv(data, text, encoding="utf-8"):
    (data / "train.csv").write_bytes(text.encode(encoding))


def _bomb_png(w=100_000, h=100_000) -> bytes:
    """A valid-looking PNG header claiming w x h pixels, with almost no data."""
    def chunk(kind, body):
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
    ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def set_img(name, blob):
    return lambda d: (d / "train" / name).write_bytes(blob)


CASES = {
    # CSV and options: found before anything is written
    "csv missing": (lambda d: (d / "train.csv").unlink(), [], 1, ["no CSV"]),
    "csv empty": (lambda d: _csv(d, ""), [], 1, ["cannot read"]),
    "csv header only": (lambda d: _csv(d, "image,label\n"), [], 1, ["no rows"]),
    "no image column": (lambda d: _csv(d, "file,label\nimg000.png,0\n"), [], 1, ["no image column"]),
    "no label column": (lambda d: _csv(d, "image,klass\nimg000.png,0\n"), [], 1, ["no label column"]),
    "NaN label": (lambda d: _csv(d, "image,label\nimg000.png,0\nimg001.png,\nimg002.png,1\n"), [], 1, ["empty label", "3"]),
    "image missing": (lambda d: (d / "train" / "img002.png").unlink(), [], 1, ["img002.png", "not found"]),
    "many images missing": (
        lambda d: _csv(d, "image,label\n" + "".join(f"gone{k}.png,0\n" for k in range(12)) + "img000.png,1\n"),
        [], 1, ["12 image(s)", "gone0.png", "gone9.png", "(and 2 more)"],
    ),
    "one row": (lambda d: _csv(d, "image,label\nimg000.png,0\n"), [], 1, ["at least 2 rows"]),
    "prob above 1": (None, ["--prob", "1.01"], 2, ["--prob"]),
    "prob below 0": (None, ["--prob", "-0.1"], 2, ["--prob"]),
    "alpha zero": (None, ["--alpha", "0"], 2, ["--alpha"]),
    "alpha negative": (None, ["--alpha", "-1"], 2, ["--alpha"]),
    "bad size": (None, ["--size", "0x10"], 2, ["--size"]),
    "bad size text": (None, ["--size", "big"], 2, ["--size"]),
    "overwrite and resume": (None, ["--overwrite", "--resume"], 2, ["--overwrite", "--resume"]),
    # images that cannot be decoded: found when decoded, the run stops
    "truncated JPEG": (set_img("img001.png", _jpeg(40, 40)[:300]), [], 1, ["img001.png", "truncated JPEG"]),
    "truncated PNG": (set_img("img001.png", _png(40, 40)[:-20]), [], 1, ["img001.png", "truncated PNG"]),
    "zero-byte file": (set_img("img003.png", b""), [], 1, ["img003.png", "empty file"]),
    "text named .jpg": (
        lambda d: ((d / "train" / "notes.jpg").write_text("hello, I am text\n"), _csv(d, "image,label\nnotes.jpg,0\nimg000.png,1\nimg001.png,1\n")),
        [], 1, ["notes.jpg", "cannot decode"],
    ),
    "decompression bomb": (set_img("img002.png", _bomb_png()), [], 1, ["img002.png", "100000x100000", "limit"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_matrix(case, small_data, tmp_path):
    setup, args, code, words = CASES[case]
    if setup:
        setup(small_data)
    before = digest_tree(small_data)
    out = tmp_path / "out"
    assert_one_line_error(invoke("mixup", small_data, out, *args), code, *words)
    assert digest_tree(small_data) == before
    if code == 2 or "CSV" in case or "csv" in case or "column" in case or "missing" in case or case in ("NaN label", "one row"):
        assert not out.exists()  # found before anything was written
    else:
        assert not (out / "train.csv").exists()
        for p in (out / "images").iterdir():  # whatever was written is complete, under its final name
            assert not p.name.startswith(".")
            read_image(p)


@pytest.mark.parametrize(
    "case",
    ["truncated JPEG", "zero-byte file", "decompression bomb", "truncated PNG"],
)
def test_skip_bad_drops_the_row_and_lists_it(case, small_data, tmp_path):
    CASES[case][0](small_data)
    bad = {"truncated JPEG": "img001.png", "zero-byte file": "img003.png", "decompression bomb": "img002.png", "truncated PNG": "img001.png"}[case]
    out = tmp_path / "out"
    result = invoke_ok("cutmix", small_data, out, "--skip-bad", "--json")
    df = pd.read_csv(out / "train.csv", keep_default_na=False)
    assert len(df) == 11 and bad not in set(df.source_a) and bad not in set(df.source_b)
    assert (df.source_a != df.source_b).all()
    skipped = pd.read_csv(out / "skipped.csv")
    assert list(skipped.image) == [bad] and skipped.error[0]
    assert bad in result.stderr and "skipped 1" in result.stderr
    assert all((out / name).is_file() for name in df.image)
    # Deterministic: another run with other workers gives the same bytes.
    invoke_ok("cutmix", small_data, tmp_path / "again", "--skip-bad", "--workers", "1", "-q")
    assert out_files(out) == out_files(tmp_path / "again")


def test_skip_bad_with_every_partner_bad_passes_the_row_through(tmp_path):
    data = write_dataset(tmp_path / "d", [(8, 8)] * 2, [0, 1])
    (data / "train" / "img001.png").write_bytes(b"")
    invoke_ok("mixup", data, tmp_path / "o", "--skip-bad", "--format", "png")
    df = pd.read_csv(tmp_path / "o" / "train.csv", keep_default_na=False)
    assert list(df.op) == ["none"] and list(df.source_a) == ["img000.png"] and df.lam[0] == 1.0


# ---- inputs that are odd but fine ----

def test_csv_with_bom_semicolons_quotes_and_duplicates(tmp_path):
    data = write_dataset(tmp_path / "d", [(8, 10)] * 3, [0, 1, 2], layout="flat")
    os.rename(data / "img001.png", data / "a, b.png")
    _csv(data, 'image;label\n"a, b.png";cat\nimg000.png;dog\nimg000.png;dog\nimg002.png;NA\n', encoding="utf-8-sig")
    out = tmp_path / "o"
    invoke_ok("mixup", data, out, "--prob", "0")
    df = pd.read_csv(out / "train.csv", keep_default_na=False)
    assert list(df.source_a) == ["a, b.png", "img000.png", "img000.png", "img002.png"]
    assert list(df.label) == ["cat", "dog", "dog", "NA"]
    assert [c for c in df.columns if c.startswith("p_")] == ["p_NA", "p_cat", "p_dog"]
    assert df.image.is_unique


def test_hostile_names_never_write_outside_out_nor_touch_data(tmp_path):
    data = tmp_path / "d"
    (data / "sub dir").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    names = {"ünïcødé 名前.png": data, "sub dir/x y.png": data, "../elsewhere/up.png": data, str(outside / "abs.png"): None}
    for k, name in enumerate(names):
        target = Path(name) if Path(name).is_absolute() else data / name
        target.write_bytes(_png(6, 7, seed=k))
    _csv(data, "image,label\n" + "".join(f'"{n}",{k % 2}\n' for k, n in enumerate(names)))
    before_data, before_outside = digest_tree(data), digest_tree(outside)
    out = tmp_path / "o"
    invoke_ok("cutmix", data, out, "--format", "png")
    assert digest_tree(data) == before_data and digest_tree(outside) == before_outside
    out_r = out.resolve()
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_mtime_ns and out_r not in p.resolve().parents]
    assert {str(p.relative_to(tmp_path)) for p in written} == {str(p.relative_to(tmp_path)) for p in data.rglob("*") if p.is_file()} | {str(p.relative_to(tmp_path)) for p in outside.rglob("*")}
    assert len(pd.read_csv(out / "train.csv")) == 4


def test_out_images_symlink_is_refused(small_data, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (tmp_path / "target").mkdir()
    (out / "images").symlink_to(tmp_path / "target")
    assert_one_line_error(invoke("mixup", small_data, out, "--overwrite"), 1, f"{out / 'images'} is not a plain folder")
    assert not any((tmp_path / "target").iterdir())


@pytest.fixture(params=["O_TMPFILE", "rename"])
def write_path(request, monkeypatch):
    """Run a test with each of write_atomic's two ways (the second is the one off Linux), and
    check that the first was really the one taken."""
    monkeypatch.setitem(writer._tmpfile, "off", request.param == "rename")
    monkeypatch.setitem(writer._tmpfile, "pid", None)
    if request.param == "O_TMPFILE" and not hasattr(os, "O_TMPFILE"):
        pytest.skip("no O_TMPFILE on this platform")
    yield request.param
    assert writer._tmpfile["off"] == (request.param == "rename")


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="no O_TMPFILE on this platform")
@pytest.mark.parametrize("existing", [False, True])
@pytest.mark.parametrize("err", [errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP])
def test_a_kernel_without_linkable_tmpfiles_falls_back_to_rename(tmp_path, monkeypatch, err, existing):
    monkeypatch.setitem(writer._tmpfile, "off", False)
    monkeypatch.setitem(writer._tmpfile, "pid", None)
    real_link = os.link

    def refused(src, dst, *args, **kwargs):
        if Path(dst).exists():
            raise FileExistsError(errno.EEXIST, "File exists")  # the kernel checks the name first
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(os, "link", refused)
    if existing:
        for k in range(3):
            (tmp_path / f"f{k}").write_bytes(b"an earlier run's")
    for k in range(3):
        writer.write_atomic(tmp_path / f"f{k}", b"data %d" % k)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f0", "f1", "f2"]
    assert [(tmp_path / f"f{k}").read_bytes() for k in range(3)] == [b"data 0", b"data 1", b"data 2"]
    assert writer._tmpfile["off"] and real_link is not refused


def test_a_real_write_error_is_not_taken_for_a_missing_feature(tmp_path, monkeypatch):
    monkeypatch.setitem(writer._tmpfile, "off", not hasattr(os, "O_TMPFILE"))

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "link", broken)
    if not hasattr(os, "O_TMPFILE"):
        pytest.skip("no O_TMPFILE on this platform")
    with pytest.raises(MixcliError, match="cannot write .*f0: Input/output error"):
        writer.write_atomic(tmp_path / "f0", b"data")
    assert not any(tmp_path.iterdir()) and not writer._tmpfile["off"]


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="no O_TMPFILE on this platform")
def test_files_get_the_umask_and_a_forked_child_links_its_own_files(tmp_path, monkeypatch):
    monkeypatch.setitem(writer._tmpfile, "pid", None)
    old = os.umask(0o027)
    try:
        writer.write_atomic(tmp_path / "parent", b"p")
        pid = os.fork()
        if pid == 0:  # the child: /proc/self/fd must be its own, not the parent's
            try:
                writer.write_atomic(tmp_path / "child", b"c")
                os._exit(0 if not writer._tmpfile["off"] and writer._tmpfile["pid"] == os.getpid() else 3)
            except BaseException:
                os._exit(4)
        assert os.waitpid(pid, 0)[1] == 0
    finally:
        os.umask(old)
    assert (tmp_path / "child").read_bytes() == b"c" and (tmp_path / "parent").read_bytes() == b"p"
    assert (tmp_path / "parent").stat().st_mode & 0o777 == 0o640


def test_planted_temporary_symlink_is_not_followed(small_data, tmp_path, write_path):
    from mixcli.job import Job
    from mixcli.runner import run

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "o"
    (out / "images").mkdir(parents=True)
    name = Out.image_names(["img000.png"], ".png")[0].split("/")[1]
    (out / "images" / f".{name}.tmp{os.getpid()}").symlink_to(victim)
    run(Job.make("mixup", small_data, out, fmt="png", overwrite=True), progress=False)
    assert victim.read_text() == "keep me"
    assert read_image(out / "images" / name).shape[2] == 3


def test_symlink_under_a_final_name_is_replaced_not_followed(small_data, tmp_path, write_path):
    from mixcli.job import Job
    from mixcli.runner import run

    victim = tmp_path / "victim.png"
    victim.write_bytes(b"keep me")
    out = tmp_path / "o"
    (out / "images").mkdir(parents=True)
    name = Out.image_names(["img000.png"], ".png")[0].split("/")[1]
    (out / "images" / name).symlink_to(victim)
    (out / "images" / "stale.png").write_bytes(b"an earlier run's file")
    run(Job.make("mixup", small_data, out, fmt="png", overwrite=True), progress=False)
    assert victim.read_bytes() == b"keep me"
    assert not (out / "images" / name).is_symlink() and read_image(out / "images" / name).shape[2] == 3
    assert not any(p.name.startswith(".") for p in (out / "images").iterdir())


@pytest.mark.parametrize("where", ["equal to the image root", "inside the image root", "equal to DATA"])
def test_out_overlapping_the_input_is_refused(small_data, where):
    out = {"equal to the image root": small_data / "train", "inside the image root": small_data / "train" / "out", "equal to DATA": small_data}[where]
    before = digest_tree(small_data)
    assert_one_line_error(invoke("mixup", small_data, out), 1, f"OUT {out} overlaps the input folder")
    assert digest_tree(small_data) == before


def test_out_not_writable(small_data, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert_one_line_error(invoke("mixup", small_data, blocker / "out"), 1, f"cannot create {blocker / 'out'}", "Not a directory")


def test_disk_full_stops_cleanly(small_data, tmp_path, monkeypatch, write_path):
    calls = {"n": 0}
    real = writer._fill

    def filling(f, data):
        calls["n"] += 1
        if calls["n"] > 5:
            f.write(data[: len(data) // 2])  # the disk fills half-way through a file
            f.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(f, data)

    monkeypatch.setattr(writer, "_fill", filling)
    out = tmp_path / "out"
    result = invoke("mixup", small_data, out, "--workers", "1", "--format", "png")
    assert result.exit_code == 1, result.output
    assert "No space left on device" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (out / "train.csv").exists()
    files = list((out / "images").iterdir())
    assert 0 < len(files) <= 5 and not any(p.name.startswith(".") for p in files)
    for p in files:
        checked(p.read_bytes(), str(p))  # complete


@pytest.mark.parametrize("kind", ["gray", "rgba", "16bit", "1x1", "cmyk"])
def test_unusual_images_become_8bit_3channel(kind, tmp_path):
    data = write_dataset(tmp_path / "d", [(5, 7)] * 3, [0, 1, 0])
    img = {
        "gray": np.arange(35, dtype=np.uint8).reshape(5, 7),
        "rgba": np.dstack([np.full((5, 7, 3), 90, np.uint8), np.zeros((5, 7), np.uint8)]),
        "16bit": np.full((5, 7, 3), 40000, np.uint16),
        "1x1": np.array([[[10, 20, 30]]], np.uint8),
    }.get(kind)
    if kind == "cmyk":
        (data / "train" / "img000.png").write_bytes((FIXTURES / "cmyk.jpg").read_bytes())
    else:
        cv2.imwrite(str(data / "train" / "img000.png"), img)
    out = tmp_path / "o"
    invoke_ok("cutmix", data, out, "--format", "png")
    got = read_image(data / "train" / "img000.png")
    assert got.dtype == np.uint8 and got.ndim == 3 and got.shape[2] == 3
    want = {
        "gray": np.repeat(img[:, :, None], 3, axis=2) if img is not None and img.ndim == 2 else None,
        "rgba": np.full((5, 7, 3), 90, np.uint8),
        "16bit": np.full((5, 7, 3), 40000 >> 8, np.uint8),
        "1x1": img,
    }.get(kind)
    if kind == "cmyk":
        assert got[0, 0].tolist() == pytest.approx([0, 0, 255], abs=3) and got[0, 6].tolist() == pytest.approx([255, 255, 255], abs=3)
    else:
        np.testing.assert_array_equal(got, want)
    df = pd.read_csv(out / "train.csv")
    row = df[df.source_a == "img000.png"].iloc[0]
    assert read_image(out / row.image).shape == got.shape


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12), min_size=1, max_size=6),
    labels=st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=6), min_size=6, max_size=6),
    sep=st.sampled_from([",", ";", "\t"]),
    bom=st.booleans(),
)
def test_csv_reader_round_trips_any_names(tmp_path_factory, names, labels, sep, bom):
    labels = [l for l in labels if l.strip() and l == l.strip()] or ["x"]
    names = [n for n in names if n.strip() and n == n.strip()] or ["a"]
    rows = [(n, labels[k % len(labels)]) for k, n in enumerate(names)]

    def quote(v):
        return '"' + v.replace('"', '""') + '"'

    text = f"image{sep}label\n" + "".join(f"{quote(n)}{sep}{quote(l)}\n" for n, l in rows)
    path = tmp_path_factory.mktemp("csv") / "train.csv"
    path.write_bytes(text.encode("utf-8-sig" if bom else "utf-8"))
    table = read_table(path.read_bytes(), str(path))
    assert table["image"].tolist() == [n for n, _ in rows]
    assert table["label"].tolist() == [l for _, l in rows]


def test_csv_reader_rejects_non_utf8(tmp_path):
    path = tmp_path / "train.csv"
    path.write_bytes("image,label\nÿ.png,0\n".encode("latin-1"))
    with pytest.raises(MixcliError, match="cannot read"):
        read_table(path.read_bytes(), str(path))


# ---- interruptions ----

@pytest.mark.slow
def test_sigkill_then_resume_gives_the_same_bytes(tmp_path):
    data = big_data(tmp_path)
    ref = tmp_path / "ref"
    assert subprocess.run(mixcli_command("cutmix", data, ref, "-q", "--quality", "90")).returncode == 0
    out = tmp_path / "out"
    proc = start(data, out)
    assert wait_for_journal(out, proc), "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "train.csv").exists()
    for p in (out / "images").iterdir():  # nothing truncated under a final name
        if not p.name.startswith("."):
            checked(p.read_bytes(), str(p))
    done = len([p for p in (out / "images").iterdir() if not p.name.startswith(".")])
    assert 0 < done < 240
    resumed = subprocess.run(mixcli_command("cutmix", data, out, "--resume", "--quality", "90"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert out_files(out) == out_files(ref)


@pytest.mark.slow
def test_ctrl_c_stops_cleans_up_and_says_how_to_resume(tmp_path):
    data = big_data(tmp_path)
    out = tmp_path / "out"
    proc = start(data, out)
    assert wait_for_journal(out, proc, lines=1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    assert not [p for p in out.rglob(".*.tmp*")]
    assert not (out / "train.csv").exists()
    again = subprocess.run(mixcli_command("cutmix", data, out, "--resume", "--workers", "2", "--quality", "90", "--json"), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert len(pd.read_csv(out / "train.csv")) == 240


def test_resume_with_other_options_is_refused(small_data, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    from mixcli.data.dataset import load_dataset
    from mixcli.job import Job
    from mixcli.store import open_store

    job = Job.make("mixup", small_data, out, alpha=0.2)
    (out / "images").mkdir()
    Out(open_store(out)).state.start(job.run_record(load_dataset(small_data).digest, 12, 1))
    assert_one_line_error(invoke("mixup", small_data, out, "--resume", "--alpha", "0.4"), 1, "--alpha 0.2 then 0.4")
    invoke_ok("mixup", small_data, out, "--resume", "--alpha", "0.2", "-q")
    assert len(pd.read_csv(out / "train.csv")) == 12


def test_resume_of_a_finished_run_changes_nothing(small_data, tmp_path):
    out = tmp_path / "out"
    invoke_ok("mixup", small_data, out, "-q")
    before = out_files(out)
    invoke_ok("mixup", small_data, out, "--resume", "--json")
    assert out_files(out) == before


def test_resume_refuses_a_folder_that_holds_no_run(small_data, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("not mixcli's")
    assert_one_line_error(invoke("mixup", small_data, out, "--resume"), 1, "nothing to resume")
    assert (out / "mine.txt").read_text() == "not mixcli's"


def test_jpeg_with_data_after_its_end_marker_is_complete(tmp_path):
    """Motion photos append a video after the JPEG's end marker: still a good image."""
    blob = _jpeg(30, 40) + b"\x00ftypmp42" + bytes(range(256)) * 40
    path = tmp_path / "motion.jpg"
    path.write_bytes(blob)
    assert read_image(path).shape == (30, 40, 3)
    path.write_bytes(_jpeg(30, 40)[:-200])
    with pytest.raises(MixcliError, match="truncated JPEG"):
        read_image(path)


def test_exif_orientation_is_applied(tmp_path):
    data = write_dataset(tmp_path / "d", [(6, 4)] * 2, [0, 1])
    (data / "train" / "img000.png").write_bytes((FIXTURES / "exif_rotated.jpg").read_bytes())
    img = read_image(data / "train" / "img000.png")
    assert img.shape == (6, 4, 3)  # stored 4 x 6, displayed 6 x 4
    b, g, r = (int(v) for v in img[0, 3])
    assert r > 200 and g < 80 and b < 80  # the stored top-left red block is now top-right
    assert img[5, 0].min() > 200
    invoke_ok("cutmix", data, tmp_path / "o", "--format", "png", "-q")
    row = pd.read_csv(tmp_path / "o" / "train.csv").set_index("source_a").loc["img000.png"]
    assert read_image(tmp_path / "o" / row.image).shape == (6, 4, 3)
    assert row.y2 <= 6 and row.x2 <= 4


def _garbage_png(w=8, h=6) -> bytes:
    """A PNG complete in structure (signature, IHDR, IDAT, IEND) whose pixel data is garbage."""
    def chunk(kind, body):
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
    ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"not zlib data at all") + chunk(b"IEND", b"")


def test_skip_bad_leaves_no_file_without_a_row(tmp_path):
    data = write_dataset(tmp_path / "d", [(6, 8)] * 40, [k % 3 for k in range(40)])
    for k in (3, 4, 17, 30):
        (data / "train" / f"img{k:03d}.png").write_bytes(_garbage_png())
    out = tmp_path / "o"
    invoke_ok("mixup", data, out, "--format", "png", "--skip-bad", "--prob", "0.5")
    df = pd.read_csv(out / "train.csv", keep_default_na=False)
    on_disk = {f"images/{p.name}" for p in (out / "images").iterdir()}
    assert on_disk == set(df.image)  # every file has its row, every row its file
    skipped = set(pd.read_csv(out / "skipped.csv").image) if (out / "skipped.csv").exists() else set()
    assert skipped <= {f"img{k:03d}.png" for k in (3, 4, 17, 30)}
    mixed = df[df.op == "mixup"]
    assert not (set(mixed.source_a) | set(mixed.source_b)) & {f"img{k:03d}.png" for k in (3, 4, 17, 30)}
    # Without --skip-bad, a bad image stops the run even when it is only someone's partner.
    assert_one_line_error(invoke("mixup", data, tmp_path / "o2", "--format", "png", "--prob", "0.5"), 1, "cannot decode image")


def test_symlinked_state_folder_is_refused(small_data, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / ".mixcli").symlink_to(small_data)
    before = digest_tree(small_data)
    assert_one_line_error(invoke("mixup", small_data, out, "--overwrite"), 1, f"{out / '.mixcli'} is not a plain folder")
    assert digest_tree(small_data) == before


@pytest.mark.parametrize("args", [["--alpha", "inf"], ["--alpha", "nan"], ["--seed", "-1"], ["--size", "100000x100000"], ["--prob", "nan"]])
def test_more_bad_options_are_usage_errors(small_data, tmp_path, args):
    assert_one_line_error(invoke("mixup", small_data, tmp_path / "o", *args), 2, args[0])
    assert not (tmp_path / "o").exists()


def test_an_image_jpeg_cannot_hold_is_one_line_or_skipped(tmp_path):
    data = write_dataset(tmp_path / "d", [(4, 5)] * 3, [0, 1, 0])
    cv2.imwrite(str(data / "train" / "img001.png"), np.zeros((1, 70000, 3), np.uint8))
    assert_one_line_error(invoke("mixup", data, tmp_path / "o", "--prob", "0"), 1, "img001.png", "cannot encode")
    invoke_ok("mixup", data, tmp_path / "o2", "--prob", "0", "--skip-bad")
    assert list(pd.read_csv(tmp_path / "o2" / "skipped.csv").image) == ["img001.png"]


def test_class_names_with_separators_chain(tmp_path):
    data = write_dataset(tmp_path / "d", [(6, 7)] * 4, [], csv_rows=[])
    rows = [(f"img{k:03d}.png", label) for k, label in enumerate(["a;b;c;d", "e;f;g;h", "i;j", "x"])]
    (data / "train.csv").write_text("image,label\n" + "".join(f"{n},\"{l}\"\n" for n, l in rows))
    invoke_ok("mixup", data, tmp_path / "one", "-q")
    invoke_ok("cutmix", tmp_path / "one", tmp_path / "two", "-q")
    df = pd.read_csv(tmp_path / "two" / "train.csv")
    assert [c for c in df.columns if c.startswith("p_")] == ["p_a;b;c;d", "p_e;f;g;h", "p_i;j", "p_x"]


def test_native_library_messages_do_not_reach_stderr(tmp_path):
    """libpng prints its own error on fd 2; the user still sees exactly one line."""
    data = write_dataset(tmp_path / "d", [(6, 8)] * 4, [0, 1, 0, 1])
    (data / "train" / "img001.png").write_bytes(_garbage_png())
    proc = subprocess.run(mixcli_command("mixup", data, tmp_path / "o"), capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"mixcli: error: cannot decode image {data / 'train' / 'img001.png'}"]


def test_overwrite_leaves_only_the_new_runs_files_under_images_and_masks(small_data, tmp_path):
    out = tmp_path / "out"
    invoke_ok("fmix", small_data, out, "--copies", "2", "--json", "-q")
    (out / "notes.txt").write_text("mine")
    (out / "images" / "sub").mkdir()
    (out / "images" / "sub" / "old.jpg").write_bytes(b"x")
    result = invoke_ok("cutout", small_data, out, "--overwrite", "--json")
    table = pd.read_csv(out / "train.csv")
    listed = {f"images/{p.name}" for p in (out / "images").iterdir()}
    assert listed == set(table.image)  # the 24 fmix images, their masks and sub/ are gone
    assert not any((out / "masks").iterdir())
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads(result.stdout)["removed"] == 24 + 24 + 1 - 12  # 12 names are the same
    assert "removed 37 file(s) of an earlier run" in result.stderr


def test_usage_line_names_the_arguments_without_braces(small_data):
    for command in ("mixup", "cutout", "preview"):
        usage = invoke(command, "--help").stdout.splitlines()[0]
        assert usage.endswith(f" {command} [OPTIONS] DATA" + (" OUT" if command != "preview" else "")) and "{" not in usage, usage


def test_a_shard_killed_between_its_last_chunk_and_its_stats_is_finished_by_resume(tmp_path, monkeypatch):
    """Every chunk of shard 1 journaled, its stats never written (a kill right then): --resume
    finishes that shard from its journal, runs the rest, and writes what one run writes."""
    from mixcli.runner import local

    data = big_data(tmp_path, n=64)
    ref, out = tmp_path / "ref", tmp_path / "out"
    invoke_ok("mixup", data, ref, "-q", "--shard-size", "16", "--workers", "1")
    real = local.finish_shard

    def killed(prep, s, results):
        if s == 1:
            raise KeyboardInterrupt
        real(prep, s, results)

    monkeypatch.setattr(local, "finish_shard", killed)
    assert invoke("mixup", data, out, "-q", "--shard-size", "16", "--workers", "1").exit_code == 130
    monkeypatch.setattr(local, "finish_shard", real)
    assert (out / ".mixcli" / "shards" / "000001.journal").exists() and not (out / ".mixcli" / "shards" / "000001.json").exists()
    invoke_ok("mixup", data, out, "-q", "--shard-size", "16", "--workers", "1", "--resume")
    assert out_files(out) == out_files(ref)

"""JPEG decoding: libjpeg-turbo (simplejpeg) straight to BGR, or OpenCV where that path refuses.

The fixtures (tests/jpegs/, made by make_jpegs.py) cover chroma subsamplings, grayscale,
progressive, restart markers, arithmetic coding, CMYK/YCCK, 12-bit, lossless, corrupt data and
the 8 EXIF orientations. On each, at every DCT reduction, the fast path gives OpenCV's array
exactly or is not taken; which of the two is asserted per file, so neither can pass by default.
"""

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import simplejpeg
from conftest import invoke_ok
from mixcli.pixels import codec as imageio, jpeg
from mixcli.pixels.codec import ImageError, decode, read_image
from mixcli.pixels.jpeg import exif_orientation

JPEGS = Path(__file__).resolve().parent / "jpegs"
FALLBACK = {  # left to OpenCV: what libjpeg-turbo's BGR path refuses, or what this module cannot read for sure
    "12bit.jpg", "cmyk.jpg", "ycck.jpg", "lossless.jpg", "corrupt_extraneous.jpg", "exif_bad_ifd.jpg", "exif_bad_order.jpg",
    "exif_make_outside_6.jpg",
}
TINY = {"tiny3x3.jpg", "tiny4x5.jpg", "tiny13x9.jpg"}  # a reduced decode of a side under 16 pixels: OpenCV's
FIXTURES = sorted(p.name for p in JPEGS.glob("*.jpg"))
REDUCED = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def _load_make_jpegs():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_jpegs", JPEGS / "make_jpegs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def opencv(data: bytes, reduce: int = 1):
    return cv2.imdecode(np.frombuffer(data, np.uint8), REDUCED[reduce])


def test_fixtures_are_all_there():
    assert len(FIXTURES) == 48 and FALLBACK | TINY <= set(FIXTURES)


@pytest.mark.parametrize("reduce", [1, 2, 4, 8])
@pytest.mark.parametrize("name", FIXTURES)
def test_fast_path_gives_opencvs_pixels_or_is_not_taken(name, reduce):
    data = (JPEGS / name).read_bytes()
    fast = imageio._decode_jpeg(data, reduce)
    if name in FALLBACK or (name in TINY and reduce > 1):
        assert fast is None
        return
    ref = opencv(data, reduce)
    assert fast is not None and fast.dtype == np.uint8
    assert fast.shape == ref.shape and np.array_equal(fast, ref)


@pytest.mark.parametrize("name", FIXTURES)
def test_decode_equals_opencv_whichever_path_runs(name):
    data = (JPEGS / name).read_bytes()
    ref = opencv(data)
    if ref is None:  # 12-bit: OpenCV cannot either, so it is the one clear error of today
        with pytest.raises(ImageError, match=f"cannot decode image .*{name}"):
            decode(data, JPEGS / name)
        return
    assert np.array_equal(decode(data, JPEGS / name), ref)


@pytest.mark.parametrize("size", [(9, 7), (40, 30)])
@pytest.mark.parametrize("name", ["large420.jpg", "gray.jpg", "progressive.jpg", "exif_II_6.jpg", "cmyk.jpg"])
def test_decode_with_size_is_the_same_on_both_paths(name, size, monkeypatch):
    data = (JPEGS / name).read_bytes()
    fast = decode(data, JPEGS / name, size)
    monkeypatch.setattr(imageio, "_decode_jpeg", lambda data, reduce: None)
    assert np.array_equal(fast, decode(data, JPEGS / name, size))
    assert fast.shape == (size[1], size[0], 3)


def _turned(img: np.ndarray, orientation: int) -> np.ndarray:
    """EXIF orientation in NumPy: the stored image turned to how it is meant to be seen."""
    t = img.transpose(1, 0, 2)
    return {1: img, 2: img[:, ::-1], 3: img[::-1, ::-1], 4: img[::-1], 5: t, 6: t[:, ::-1], 7: t[::-1, ::-1], 8: t[::-1]}[orientation]


@pytest.mark.parametrize("order", ["II", "MM"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_turns_the_image(order, orientation):
    base = imageio._decode_jpeg((JPEGS / "sub420.jpg").read_bytes(), 1)
    data = (JPEGS / f"exif_{order}_{orientation}.jpg").read_bytes()
    fast = imageio._decode_jpeg(data, 1)
    assert np.array_equal(fast, _turned(base, orientation))
    assert np.array_equal(fast, opencv(data))
    assert fast.shape[:2] == (base.shape[:2][::-1] if orientation >= 5 else base.shape[:2])


@pytest.mark.parametrize("name, expected", [
    ("exif_II_6.jpg", 6), ("exif_MM_8.jpg", 8), ("exif_0.jpg", 1), ("exif_9.jpg", 1),
    ("exif_long_6.jpg", 6),  # a LONG: OpenCV reads its first two bytes, 6 in little-endian order
    ("exif_long_MM_6.jpg", 1),  # ... and 0 in big-endian order: no turn
    ("exif_after_xmp_6.jpg", 6), ("exif_twice_6_3.jpg", 6), ("exif_bad_ifd.jpg", None), ("exif_bad_order.jpg", None),
    ("exif_make_inside_6.jpg", 6), ("exif_make_outside_6.jpg", None),  # OpenCV stops at a value outside the block
])
def test_exif_orientation_is_read_as_opencv_reads_it(name, expected):
    data = (JPEGS / name).read_bytes()
    start, end = jpeg.segments(data).exif
    assert exif_orientation(data[start:end]) == expected


def test_exif_orientation_of_a_reduced_decode():
    make_jpegs = _load_make_jpegs()
    data = make_jpegs.exif_jpeg((JPEGS / "large420.jpg").read_bytes(), make_jpegs.exif_block(8, "MM", before=3))
    for reduce in (1, 2, 4, 8):
        fast = imageio._decode_jpeg(data, reduce)
        assert fast.shape == (-(-131 // reduce), -(-97 // reduce), 3)
        assert np.array_equal(fast, opencv(data, reduce))


def test_truncated_and_oversized_jpegs_are_refused_before_any_decoder(tmp_path, monkeypatch):
    def no_decode(*args, **kwargs):
        raise AssertionError("a decoder ran")

    monkeypatch.setattr(simplejpeg, "decode_jpeg", no_decode)
    monkeypatch.setattr(cv2, "imdecode", no_decode)
    data = (JPEGS / "sub420.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated JPEG"):
        read_image(tmp_path / "cut.jpg")
    sof = data.index(b"\xff\xc0")
    huge = data[: sof + 5] + (60000).to_bytes(2, "big") * 2 + data[sof + 9 :]  # 60000x60000 claimed
    (tmp_path / "huge.jpg").write_bytes(huge)
    with pytest.raises(ImageError, match="60000x60000 pixels is over the limit"):
        read_image(tmp_path / "huge.jpg")


def _fixture_data(root: Path) -> Path:
    """DATA/train.csv and DATA/train/: the decodable fixtures (12-bit left out) in 3 classes."""
    names = [n for n in FIXTURES if n != "12bit.jpg"]
    (root / "train").mkdir(parents=True)
    for n in names:
        (root / "train" / n).write_bytes((JPEGS / n).read_bytes())
    (root / "train.csv").write_text("image,label\n" + "".join(f"{n},{k % 3}\n" for k, n in enumerate(names)))
    return root


def _digests(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*")) if p.is_file() and ".mixcli" not in p.parts}


@pytest.mark.parametrize("args", [["mixup", "--alpha", "0.4"], ["cutmix", "--size", "12x10"], ["mosaic", "--format", "png"]])
def test_a_run_writes_the_same_bytes_with_either_decoder(tmp_path, monkeypatch, args):
    data = _fixture_data(tmp_path / "data")
    fast = invoke_ok(args[0], data, tmp_path / "fast", *args[1:], "--seed", "3", "--json", "-q", "--workers", "2")
    decoders = json.loads(fast.stdout)["decoders"]
    names = {k.split()[0]: v for k, v in decoders.items()}
    assert names == {"simplejpeg": len(FIXTURES) - len(FALLBACK), "opencv": len(FALLBACK) - 1}
    monkeypatch.setattr(imageio, "_decode_jpeg", lambda data, reduce: None)
    slow = invoke_ok(args[0], data, tmp_path / "slow", *args[1:], "--seed", "3", "--json", "-q", "--workers", "1")
    assert {k.split()[0]: v for k, v in json.loads(slow.stdout)["decoders"].items()} == {"simplejpeg": 0, "opencv": len(FIXTURES) - 1}
    assert _digests(tmp_path / "fast") == _digests(tmp_path / "slow")

#!/usr/bin/env python3
"""Make the JPEG fixtures of tests/test_decode.py: small files covering what a decoder meets.

    pip install imagecodecs            # CMYK, YCCK, 12-bit and lossless JPEGs
    apt-get install libjpeg-turbo-progs  # jpegtran, for arithmetic coding
    python tests/jpegs/make_jpegs.py   # writes tests/jpegs/*.jpg

Every image is one 35x27 crop of sample_data (odd sizes: partial blocks and chroma edges), so
the files are a few KB. OpenCV writes the plain ones (each chroma subsampling, grayscale,
progressive, optimised Huffman tables, restart markers); the others come from the tools above;
EXIF variants are the 4:2:0 file with an APP1 segment put in by exif_jpeg() below, which the
tests also use. Names say what a file is; tests/test_decode.py lists which ones the fast path
must take and which it must leave to OpenCV.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent.parent / "sample_data" / "train" / "astronaut_01.jpg"
XMP = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x='adobe:ns:meta/'/>"


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def exif_block(orientation: int, order: str = "II", kind: int = 3, before: int = 1, text_at: int | None = None) -> bytes:
    """An APP1 Exif payload whose IFD0 holds `before` other entries (a 4-byte Make held in the
    entry, or a 20-byte one at offset text_at), then tag 0x0112 = orientation as TIFF type `kind`
    (3 SHORT, 4 LONG), in byte order II or MM."""
    e = "<" if order == "II" else ">"
    if text_at is None:
        entries = [struct.pack(e + "HHI4s", 0x010F, 2, 4, b"abc\x00") for _ in range(before)]
    else:
        entries = [struct.pack(e + "HHII", 0x010F, 2, 20, text_at) for _ in range(before)]
    value = struct.pack(e + "H", orientation) + b"\x00\x00" if kind == 3 else struct.pack(e + "I", orientation)
    entries.append(struct.pack(e + "HHI", 0x0112, kind, 1) + value)
    ifd = struct.pack(e + "H", len(entries)) + b"".join(entries) + struct.pack(e + "I", 0)
    return b"Exif\x00\x00" + order.encode() + struct.pack(e + "HI", 42, 8) + ifd


def exif_jpeg(jpeg: bytes, *payloads: bytes) -> bytes:
    """The JPEG with one APP1 segment per payload put in right after its SOI."""
    return jpeg[:2] + b"".join(segment(0xE1, p) for p in payloads) + jpeg[2:]


def base_image():
    import cv2

    img = cv2.imread(str(SAMPLE), cv2.IMREAD_COLOR)
    return cv2.resize(img[40:94, 30:100], (35, 27), interpolation=cv2.INTER_AREA)


def main() -> None:
    import cv2
    import imagecodecs
    import numpy as np

    img = base_image()
    files: dict[str, bytes] = {}

    def cv(name, image, *params):
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90, *params])
        assert ok
        files[name] = buf.tobytes()

    for sub in ("411", "420", "422", "440", "444"):
        cv(f"sub{sub}.jpg", img, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, getattr(cv2, f"IMWRITE_JPEG_SAMPLING_FACTOR_{sub}"))
    cv("gray.jpg", cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    cv("progressive.jpg", img, cv2.IMWRITE_JPEG_PROGRESSIVE, 1)
    cv("optimized.jpg", img, cv2.IMWRITE_JPEG_OPTIMIZE, 1)
    cv("restart.jpg", img, cv2.IMWRITE_JPEG_RST_INTERVAL, 1)
    cv("large420.jpg", cv2.resize(img, (131, 97), interpolation=cv2.INTER_LINEAR))  # reductions 2, 4, 8

    rgb = np.ascontiguousarray(img[..., ::-1])
    cmyk = np.ascontiguousarray(np.concatenate([255 - rgb, np.full(img.shape[:2] + (1,), 40, np.uint8)], axis=2))
    files["cmyk.jpg"] = imagecodecs.jpeg8_encode(cmyk, level=90, colorspace="CMYK", outcolorspace="CMYK")
    files["ycck.jpg"] = imagecodecs.jpeg8_encode(cmyk, level=90, colorspace="CMYK", outcolorspace="YCCK")
    files["rgb_coded.jpg"] = imagecodecs.jpeg8_encode(rgb, level=90, colorspace="RGB", outcolorspace="RGB")  # no YCbCr transform
    files["12bit.jpg"] = imagecodecs.jpeg8_encode(rgb.astype(np.uint16) * 16, level=90, bitspersample=12)
    files["lossless.jpg"] = imagecodecs.jpeg8_encode(rgb, lossless=True)

    for name, args in (("arithmetic.jpg", ["-arithmetic"]), ("arithmetic_progressive.jpg", ["-arithmetic", "-progressive"])):
        files[name] = subprocess.run(["jpegtran", *args], input=files["sub420.jpg"], capture_output=True, check=True).stdout

    base = files["sub420.jpg"]
    for order in ("II", "MM"):
        for n in range(1, 9):
            files[f"exif_{order}_{n}.jpg"] = exif_jpeg(base, exif_block(n, order))
    files["exif_0.jpg"] = exif_jpeg(base, exif_block(0))  # out of range: ignored
    files["exif_9.jpg"] = exif_jpeg(base, exif_block(9))
    files["exif_long_6.jpg"] = exif_jpeg(base, exif_block(6, kind=4))  # LONG: OpenCV reads its first 2 bytes
    files["exif_long_MM_6.jpg"] = exif_jpeg(base, exif_block(6, "MM", kind=4))
    files["exif_after_xmp_6.jpg"] = exif_jpeg(base, XMP, exif_block(6))
    files["exif_twice_6_3.jpg"] = exif_jpeg(base, exif_block(6), exif_block(3))  # the first Exif block counts
    files["exif_bad_ifd.jpg"] = exif_jpeg(base, exif_block(6)[:-14])  # IFD0 cut short: left to OpenCV
    files["exif_make_outside_6.jpg"] = exif_jpeg(base, exif_block(6, text_at=5000))  # OpenCV stops at the Make
    files["exif_make_inside_6.jpg"] = exif_jpeg(base, exif_block(6, text_at=8))  # 20 bytes from the header on: inside
    for h, w in ((3, 3), (5, 4), (9, 13)):
        cv(f"tiny{w}x{h}.jpg", cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA))
    files["exif_bad_order.jpg"] = exif_jpeg(base, b"Exif\x00\x00XX" + exif_block(6)[8:])

    # Data where a marker should be: libjpeg warns ("extraneous bytes before marker") and decodes on.
    sos = base.index(b"\xff\xda")
    eoi = base.rindex(b"\xff\xd9")
    files["corrupt_extraneous.jpg"] = base[:eoi] + b"\x12\x34\x56" + base[eoi:]
    files["trailing_bytes.jpg"] = base + b"\x00" * 64  # after EOI: ignored by both
    assert sos < eoi

    for old in HERE.glob("*.jpg"):
        old.unlink()
    for name, data in sorted(files.items()):
        (HERE / name).write_bytes(data)
    print(f"wrote {len(files)} fixtures, {sum(map(len, files.values()))} bytes, into {HERE}")


if __name__ == "__main__":
    main()

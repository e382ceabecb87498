"""What an image file's bytes say before any decoder runs: its format, its size, whether it is
complete, and a JPEG's EXIF orientation (read as OpenCV reads it). Plain Python, no decoder."""

import struct
from typing import NamedTuple

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_EXIF = b"Exif\x00\x00"
_TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}  # bytes a value, by TIFF type


def sniff(data: bytes) -> str | None:
    """'jpg' or 'png' from the file's first bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == _PNG_MAGIC:
        return "png"
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """(height, width) from a JPEG's SOF marker or a PNG's IHDR, or None."""
    fmt = sniff(data)
    if fmt == "png" and len(data) >= 24:
        return int.from_bytes(data[20:24], "big"), int.from_bytes(data[16:20], "big")
    if fmt == "jpg":
        return segments(data).hw
    return None


def jpeg_complete(data: bytes) -> bool:
    """Whether an end-of-image marker follows the first scan (only EOI can be FFD9 there)."""
    sos = segments(data).sos
    return sos is not None and data.rfind(b"\xff\xd9", sos) >= 0


def png_complete(data: bytes) -> bool:
    """Whether walking the chunks (length, type, data, CRC) from the signature reaches IEND, which
    follows all image data (bytes after it are allowed)."""
    i = len(_PNG_MAGIC)
    while i + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, i)
        if kind == b"IEND":
            return True
        if not kind.isalpha():  # types are 4 ASCII letters: a garbage length led off the chunks
            return False
        i += 12 + length
    return False


class Segments(NamedTuple):
    """What a walk of a JPEG's marker segments up to the first scan found."""

    hw: tuple[int, int] | None = None  # (height, width) of the frame
    frame: tuple[int, int, int] | None = None  # SOF marker, sample precision, number of components
    sos: int | None = None  # offset of the first SOS
    exif: tuple[int, int] | None = None  # (start, end) of the first APP1 Exif block


def segments(data: bytes) -> Segments:
    hw = frame = exif = None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0xDA:
            return Segments(hw, frame, i, exif)
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and i + 10 <= len(data):
            hw = int.from_bytes(data[i + 5 : i + 7], "big"), int.from_bytes(data[i + 7 : i + 9], "big")
            frame = (marker, data[i + 4], data[i + 9])
        elif marker == 0xE1 and exif is None and data.startswith(_EXIF, i + 4):
            exif = (i + 4, min(i + 2 + length, len(data)))
        i += 2 + length
    return Segments(hw, frame, None, exif)


def exif_orientation(block: bytes) -> int | None:
    """The orientation an APP1 Exif block gives, read as OpenCV reads it: the first two bytes of
    tag 0x0112's value in IFD0, 1 when the tag is missing or not 1-8. None where OpenCV's reading
    might differ, left to it: not a well-formed TIFF header and IFD0, an entry of an unknown type
    or whose value lies outside the block (OpenCV stops there), or the tag twice."""
    tiff = block[len(_EXIF) :]
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    e = "<" if tiff[:2] == b"II" else ">"
    magic, ifd = struct.unpack_from(e + "HI", tiff, 2)
    if magic != 42 or ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(e + "H", tiff, ifd)
    if ifd + 2 + 12 * count > len(tiff):
        return None
    values = []
    for at in range(ifd + 2, ifd + 2 + 12 * count, 12):
        tag, kind, n, offset = struct.unpack_from(e + "HHII", tiff, at)
        if kind not in _TIFF_SIZES or (_TIFF_SIZES[kind] * n > 4 and offset + _TIFF_SIZES[kind] * n > len(tiff)):
            return None
        if tag == 0x0112:
            values.append(struct.unpack_from(e + "H", tiff, at + 8)[0])
    if len(values) > 1:
        return None
    return values[0] if values and 1 <= values[0] <= 8 else 1

"""A contact sheet of mixed samples: what an operation and its options do, before a dataset is written.

The samples are the first rows of the same plan a run draws (with every row mixed), painted by
the same chunk runner, so the sheet shows what `mixcli OP` would write for those rows; a
detection dataset's objects are drawn on them, each box in its category's colour.
"""

import math
from pathlib import Path

import cv2
import numpy as np

from ..data.dataset import load_dataset
from ..errors import MixcliError
from ..job import Job
from ..pixels.codec import decode, encode_png, resize
from ..plan import make_plan
from ..store import open_file
from .chunk import Interrupted, paint_chunk
from .prepare import members_of

TILE = 256  # pixels, the longer side of each sample
LINE = 16  # pixels a caption line
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_COLOURS = [(0, 255, 0), (0, 0, 255), (255, 0, 0), (0, 255, 255), (255, 0, 255), (255, 255, 0)]  # BGR, a category each in turn


def preview(job: Job, n: int, path: Path) -> dict:
    """Paint n mixed samples of job's operation and write them as one PNG sheet at path."""
    import threading

    job.validate()
    if n < 1:
        raise MixcliError(f"-n must be >= 1, got {n}")
    ds = load_dataset(**job.dataset_options())
    try:
        plan = make_plan(len(ds), job.operation, 1.0, job.seed, pairing=job.pairing, members=members_of(job, ds), names=ds.images)
    except ValueError as e:
        raise MixcliError(str(e)) from None
    classes = [ds.classes[k] for k in ds.targets.hard()] if ds.targets is not None else [""] * len(ds)  # each input row's class
    tiles: list[np.ndarray] = []
    stop = threading.Event()

    def emit(r: int, pixels, painted, sources: list[int], marks) -> None:
        img = decode(pixels, ds.where(sources[0])) if isinstance(pixels, bytes) else pixels
        words = [f"{classes[s]} {w:.2f}".strip() for s, w in zip(sources, painted.weights)]
        if marks is not None and ds.objects is not None:
            words.append(f"{len(marks.objects)} objects")
        tiles.append(_tile(img, [painted.op] + [" + ".join(words[k : k + 2]) for k in range(0, len(words), 2)], marks.objects if marks else ()))
        if len(tiles) == n:
            stop.set()

    for chunk in range(len(plan.chunks)):
        try:
            paint_chunk(job, plan, ds, chunk, emit, stop)
        except Interrupted:
            break
    sheet = _sheet(tiles)
    store, key = open_file(path)
    store.write(key, encode_png(sheet, "preview"))
    return {"samples": len(tiles), "out": str(path), "width": sheet.shape[1], "height": sheet.shape[0]}


def _tile(img: np.ndarray, caption: list[str], objects=()) -> np.ndarray:
    """The image shrunk to fit TILE x TILE, centred on white, its objects' boxes drawn, with the caption lines under it."""
    h, w = img.shape[:2]
    scale = min(1.0, TILE / max(h, w))
    th, tw = max(1, round(h * scale)), max(1, round(w * scale))
    small = resize(img, (tw, th))
    tile = np.full((TILE + LINE * len(caption) + 6, TILE, 3), 255, np.uint8)
    y, x = (TILE - th) // 2, (TILE - tw) // 2
    tile[y : y + th, x : x + tw] = small
    for c, x1, y1, x2, y2, *_ in objects:
        colour = _COLOURS[c % len(_COLOURS)]
        cv2.rectangle(tile, (x + round(x1 * scale), y + round(y1 * scale)), (x + round(x2 * scale) - 1, y + round(y2 * scale) - 1), colour, 1)
    for k, text in enumerate(caption):
        cv2.putText(tile, _fit(text), (4, TILE + LINE * (k + 1)), _FONT, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return tile


def _fit(text: str) -> str:
    """text cut (with '...') to the tile's width."""
    while len(text) > 3 and cv2.getTextSize(text, _FONT, 0.4, 1)[0][0] > TILE - 8:
        text = text[:-4] + "..."
    return text


def _sheet(tiles: list[np.ndarray]) -> np.ndarray:
    """Tiles on a grid of about sqrt(n) columns, 4 px apart, on gray."""
    cols = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / cols)
    th = max(t.shape[0] for t in tiles)
    sheet = np.full((rows * (th + 4) + 4, cols * (TILE + 4) + 4, 3), 160, np.uint8)
    for k, t in enumerate(tiles):
        y, x = 4 + (k // cols) * (th + 4), 4 + (k % cols) * (TILE + 4)
        sheet[y : y + t.shape[0], x : x + TILE] = t
    return sheet

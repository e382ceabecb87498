"""A chunk's objects and label maps: each painted row's, from its sources', through what the
operation painted (mixcli.annotations.geometry)."""

from typing import NamedTuple

import numpy as np

from ..annotations.geometry import carry, paint_map
from ..pixels.codec import ImageError, decode_map
from ..pixels.jpeg import header_size


class Marks(NamedTuple):
    """What a row's image carries: its objects, how many the thresholds dropped, its label map
    (None without label maps) and its size (w, h)."""

    objects: list
    dropped: int
    map: np.ndarray | None
    size: tuple[int, int]


class Annotator:
    """The objects and label maps of a chunk's rows (rows: the chunk's input rows)."""

    def __init__(self, job, ds, rows: list[int]):
        self.job, self.ds, self.rows = job, ds, rows
        self.read = ds.maps.reader([ds.map_key(i) for i in rows]) if ds.maps is not None else None
        self.maps: dict[int, np.ndarray] = {}

    def marks(self, painted, ks: list[int], shapes: list, shape) -> Marks:
        """A painted row's marks: ks, shapes: its sources (positions in the chunk) and their decoded shapes."""
        job, objects = self.job, self.ds.objects
        found, dropped = [], 0
        if objects is not None:
            found, dropped = carry([objects.of(self.rows[k]) for k in ks], shapes, painted, job.min_visibility, job.min_box_size)
        label_map = None
        if self.read is not None:
            label_map = paint_map([self.map(k, s) for k, s in zip(ks, shapes)], painted, shape, job.ignore_index)
        return Marks(found, dropped, label_map, (shape[1], shape[0]))

    def map(self, k: int, shape, raw: bytes = b"") -> np.ndarray:
        """Row k's label map at its decoded image's shape (resized, nearest, with --size; raw: the
        image file's bytes, whose header gives its size before --size)."""
        if k not in self.maps:
            i = self.rows[k]
            where = self.ds.maps.where(self.ds.map_key(i))
            try:
                data = self.read(k)
            except OSError as e:
                raise ImageError(f"cannot read {where}: {e.strerror or e}") from None
            own = header_size(raw) if self.job.size is not None else None
            self.maps[k] = decode_map(data, where, self.ds.where(i), shape[:2], self.job.size, own)
        return self.maps[k]

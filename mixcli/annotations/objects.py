"""A dataset's objects: per input row, its boxes (normalised to the image's width and height,
x1 y1 x2 y2), each box's category (an index into the categories) and COCO's iscrowd flag.

Held as compressed rows, like the soft labels: memory grows with the objects, never rows x objects.
An output row's objects are lists [category, x1, y1, x2, y2, weight, visibility, crowd] in output
pixels (floats), so a chunk's journal line holds them as JSON.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Objects:
    """Row i's objects are entries indptr[i]:indptr[i+1] of category, boxes and crowd.
    categories: each category as the dataset names it, {"id": ..., "name": ...} (COCO's as read);
    format: the layout they were read from and are written in, yolo or coco."""

    indptr: np.ndarray
    category: np.ndarray
    boxes: np.ndarray
    crowd: np.ndarray
    categories: list[dict]
    format: str

    @classmethod
    def from_rows(cls, rows: list[list[tuple[int, float, float, float, float, int]]], categories: list[dict], format: str) -> "Objects":
        """From each row's (category, x1, y1, x2, y2, crowd) tuples."""
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(r) for r in rows])
        flat = [o for r in rows for o in r]
        table = np.array(flat, dtype=np.float64).reshape(len(flat), 6)
        return cls(indptr, table[:, 0].astype(np.int32), np.ascontiguousarray(table[:, 1:5]), table[:, 5].astype(np.uint8), categories, format)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def of(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row i's categories, boxes (k x 4, normalised x1 y1 x2 y2) and crowd flags."""
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.category[a:b], self.boxes[a:b], self.crowd[a:b]

    def ids(self) -> list:
        """Each category's id, by index."""
        return [c["id"] for c in self.categories]

"""train.csv's columns: their names and order, how a row's fields are written, and how mixcli
reads its own rows back (a shard's part, a WebDataset sample's JSON). The one module that knows them.

    image, label, p_<class>... (or soft_label), op, source_a, source_b, lam, x1, y1, x2, y2,
    sources, weights, boxes, mask

A detection dataset's rows have no class label (no label and p_ columns) and one more column
before mask, objects: the number of objects the row's image carries.

A shard's part of train.csv has one more column first, ROW (the output row), and one row a line:
image paths and classes never hold a line break (the dataset refuses them). With dense label
columns, two more follow ROW: AT, where the label columns begin in the line, and LABELS, the
nonzero ones as index:weight pairs joined by ';' (the line leaves the label columns out): a part
is then as short as a sparse table, and the merge writes the zeros.
"""

import csv

TABLE = "train.csv"  # the table's file: DATA's (the Kaggle layout) and OUT's, so an OUT is a DATA
IMAGE = "image"
# --out-format imagefolder (Hugging Face datasets): the table is metadata.csv, its image column file_name
# (a train.csv at OUT's root would be taken for the train split's data); metadata.jsonl for nested objects.
METADATA, METADATA_JSONL, FILE_NAME = "metadata.csv", "metadata.jsonl", "file_name"
LABEL = "label"
SOFT_PREFIX = "p_"  # p_<class>: a class's weight (--label-format dense)
SPARSE = "soft_label"  # --label-format sparse: class:weight pairs joined by ';', zeros left out
OP = "op"
LAM = "lam"
BOX = ("x1", "y1", "x2", "y2")
MASK = "mask"
OBJECTS = "objects"
PROVENANCE = (OP, "source_a", "source_b", LAM, *BOX, "sources", "weights", "boxes", MASK)
CHAINED = (OP, "source_a", LAM)  # all three mark a mixcli output, whose soft labels are read when chaining
ROW = "_row"  # a shard's part: the output row first, the merge's key
AT, LABELS = "_at", "_labels"  # a dense table's part: where its label columns go, and their nonzero weights
COMPACT = (ROW, AT, LABELS)  # the leading columns of a dense table's part
SKIPPED = ("image", "error")  # skipped.csv


def soft_columns(classes: list, sparse: bool) -> list[str]:
    return [SPARSE] if sparse else [f"{SOFT_PREFIX}{c}" for c in classes]


def header(soft: list[str] | None, objects: bool = False, image: str = IMAGE) -> list[str]:
    """The columns; soft None: no class labels; objects: the objects column (before mask, which
    stays last); image: the image column's name."""
    labels = [] if soft is None else [LABEL, *soft]
    return [image, *labels, *PROVENANCE[:-1], *([OBJECTS] if objects else []), MASK]


def quoted(value: str) -> str:
    """A field as csv.QUOTE_MINIMAL writes it (by hand: a row of a thousand label columns would
    cost the csv module as many field checks)."""
    if "," in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def box_fields(box: list[int] | None) -> tuple[str, str, str, str]:
    """x1, y1, x2, y2 of a box [y1, y2, x1, x2]; empty without one."""
    if box is None:
        return "", "", "", ""
    y1, y2, x1, x2 = box
    return str(x1), str(y1), str(x2), str(y2)


def boxes_field(boxes: list[list[int]]) -> str:
    """Every box as 'x1 y1 x2 y2', joined by ';'."""
    return ";".join(f"{x1} {y1} {x2} {y2}" for y1, y2, x1, x2 in boxes)


def sparse_field(names: list[str], entries: list[tuple[int, float]]) -> str:
    """soft_label: class:weight of each nonzero (class index, weight), in class order."""
    return ";".join(f"{names[c]}:{v!r}" for c, v in entries)


def dense_field(zeros: str, pairs) -> str:
    """The label columns of a dense row: zeros ('0.0,' a class) with each (class index, weight as
    text) of pairs, in class order, in place (cut from one line of zeros: formatting a thousand
    fields a row one by one costs more than the rest of the row)."""
    return "".join(_dense_pieces(zeros, pairs))


def _dense_pieces(zeros: str, pairs) -> list[str]:
    """dense_field's text in pieces (joined once with the rest of a line)."""
    pieces, at, width = [], 0, len("0.0,")
    for c, v in pairs:
        pieces += [zeros[at : c * width], v, ","]
        at = (c + 1) * width
    if at < len(zeros):
        pieces.append(zeros[at:-1])
    else:
        pieces.pop()  # the last class's comma
    return pieces


def compact_line(row, head: str, labels: str, tail: str) -> str:
    """A dense table's line in a shard's part: head (up to the label columns), the nonzero
    labels as index:weight;..., tail (after them, from its comma)."""
    return f"{row},{len(head)},{labels},{head}{tail}"


def part_header_ok(line: str | None) -> bool:
    return line is not None and line.startswith(f"{ROW},")


def part_row(line: str) -> int:
    """The output row of a line of a shard's part."""
    return int(line[: line.index(",")])


def part_reader(header: str):
    """line -> the line of train.csv, for the lines of a shard's part with this header (its first line)."""
    if not _compact(header):
        return lambda line: line[line.index(",") + 1 :]
    names = next(csv.reader([header]))
    zeros = "0.0," * (names.index(OP) - names.index(LABEL) - 1)  # the p_ columns lie between label and op

    def rest(line: str) -> str:
        _, at, labels, body = line.split(",", 3)
        at = int(at)
        pairs = [(int(c), v) for c, v in (pair.split(":") for pair in labels.split(";"))] if labels else []
        return "".join([body[:at], *_dense_pieces(zeros, pairs), body[at:]])

    return rest


def part_header(line: str) -> str:
    """The header of train.csv from a part's header."""
    skip = len(COMPACT) if _compact(line) else 1
    return line.split(",", skip)[skip]


def _compact(header: str) -> bool:
    return header.startswith(",".join(COMPACT) + ",")


def files_of(line: str) -> list[str]:
    """The files under OUT a line of train.csv names: its image and its mask, if any (both made
    by mixcli, so neither is quoted: the image is the first field and the mask the last)."""
    image = line[: line.index(",")]
    mask = line[line.rindex(",") + 1 :].rstrip("\n")  # from the right: a dense line is 4 KB a thousand classes
    return [image, mask] if mask else [image]


def json_value(column: str, text):
    """A train.csv field as JSON (a WebDataset sample's .json): numbers for the weight and box
    columns, None for an empty cell there; the label stays its class (a number for integer classes)."""
    if not isinstance(text, str):
        return text
    numeric = column == LAM or column.startswith(SOFT_PREFIX)
    if text == "":
        return None if numeric or column in BOX else ""
    if numeric:
        return float(text)
    return int(text) if column in BOX or column == OBJECTS else text

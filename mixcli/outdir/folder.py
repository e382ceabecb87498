"""OUT as one object: every name under it, and the operations on its folder (checks, layout,
cleaning up); the state of its run under OUT/.mixcli is Out.state (mixcli.outdir.state).

    OUT/train.csv, skipped.csv         the table of the run, and the rows --skip-bad dropped
    OUT/metadata.csv|.jsonl            --out-format imagefolder: the table, named for Hugging Face datasets
    OUT/images/<row>_<stem>.<ext>      the images (images/<label>/... with --out-layout folders)
    OUT/masks/<row>_<stem>.png         FMix's mixing masks
    OUT/labels/<row>_<stem>.txt        --layout yolo: each image's objects; OUT/data.yaml names the classes
    OUT/annotations.json               --layout coco: the images' objects
    OUT/label_maps/<row>_<stem>.png    --label-maps: each image's label map
    OUT/shards/NNNNNN.tar              --out-format webdataset: the tar files (WebDataset's "shards")
    OUT/.mixcli/                       the run's record: run.json, and the units of work (shards)
    OUT/.mixcli/stage/                 --out-format webdataset: images until their tar is written
"""

import hashlib
import re
from pathlib import PurePosixPath

from .. import columns
from ..annotations import coco, yolo
from ..errors import MixcliError
from ..store import Store
from .state import State

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ROW_PREFIX = re.compile(r"^\d{6,}_")  # a previous mixcli output's row number, dropped when chaining
_TAR = re.compile(r"\d{6}\.tar")


class Out:
    """OUT, over its store: the names below are keys relative to OUT."""

    TABLE = columns.TABLE
    TABLES = (TABLE, columns.METADATA, columns.METADATA_JSONL)  # what the output formats name the table
    SKIPPED = "skipped.csv"
    IMAGES = "images"
    MASKS = "masks"
    LABELS = yolo.LABELS
    LABEL_MAPS = "label_maps"
    DATA_YAML = yolo.YAML
    ANNOTATIONS = coco.FILE
    TARS = "shards"  # WebDataset calls its tar files shards; train.csv points into them
    STATE = ".mixcli"
    RUN = f"{STATE}/run.json"  # the options, the input's digest, the rows and shards of the run
    WORK = f"{STATE}/shards"  # each unit of work's journal, part of train.csv and stats
    STAGE = f"{STATE}/stage"  # --out-format webdataset: images and masks until their tar is written
    CATEGORIES = f"{STATE}/categories.json"  # a detection run's categories, for the merge's data.yaml or annotations.json
    PART, STATS, JOURNAL, OBJECTS = ".csv", ".json", ".journal", ".objects.jsonl"  # a shard's rows of train.csv, its stats (done), its finished chunks, its rows' objects
    BESIDE = (MASKS, LABELS, LABEL_MAPS)  # folders of files named after the images

    def __init__(self, store: Store, table: str = TABLE):
        self.store = store
        self.table = table  # the table's file: TABLE, or what the output format names it
        self.state = State(self)

    def __str__(self) -> str:
        return self.store.where()

    def where(self, key: str = "") -> str:
        return self.store.where(key)

    # Names

    @classmethod
    def image_names(cls, images: list[str], ext: str, copies: int = 1, originals: bool = False, stems: bool = True) -> list[str]:
        """Unique, deterministic names: images/<output row>_<safe stem><ext> (images/<output
        row><ext> without stems), for the output rows c*N + i (copy c of input row i) and, with
        originals, K*N + i."""
        n = len(images)
        total = n * copies + (n if originals else 0)
        width = max(6, len(str(total - 1)))
        tails = [""] * n
        for k, image in enumerate(images if stems else ()):
            stem = _UNSAFE.sub("_", _ROW_PREFIX.sub("", PurePosixPath(image.replace("\\", "/")).stem)).strip("._")[:48]
            tails[k] = f"_{stem}" if stem else ""
        return [f"{cls.IMAGES}/{r:0{width}d}{tails[r % n]}{ext}" for r in range(total)]

    @classmethod
    def mask_names(cls, names: list[str]) -> list[str]:
        """masks/<name>.png beside each output name images/<name>.<ext>."""
        return [f"{cls.MASKS}/{PurePosixPath(n).stem}.png" for n in names]

    @classmethod
    def label_name(cls, name: str) -> str:
        """labels/<name>.txt beside output image images/<name>.<ext> (YOLO's rule)."""
        return yolo.label_key(name[len(cls.IMAGES) + 1 :])

    @classmethod
    def label_map_name(cls, name: str) -> str:
        """label_maps/<name>.png beside output image images/<name>.<ext>."""
        return str(PurePosixPath(cls.LABEL_MAPS, name[len(cls.IMAGES) + 1 :]).with_suffix(".png"))

    @staticmethod
    def label_folder(label) -> str:
        """A class's folder under OUT/images (--out-layout folders): its name with unsafe characters
        as _, and past 100 characters cut, with a digest of the whole name (file systems allow 255 bytes)."""
        name = _UNSAFE.sub("_", str(label)).strip("._") or "_"
        if len(name) > 100:
            name = f"{name[:100]}_{hashlib.sha256(str(label).encode()).hexdigest()[:12]}"
        return name

    @classmethod
    def placed(cls, name: str, label) -> str:
        """images/<name> -> images/<label's folder>/<name>."""
        return f"{cls.IMAGES}/{cls.label_folder(label)}/{PurePosixPath(name).name}"

    @classmethod
    def staged(cls, name: str) -> str:
        return f"{cls.STAGE}/{name}"

    @classmethod
    def tar(cls, n: int) -> str:
        return f"{cls.TARS}/{n:06d}.tar"

    @staticmethod
    def sample_key(name: str) -> str:
        """A WebDataset sample's key: images/000123_cat.v2.jpg -> 000123_cat_v2 (a key ends at the first dot)."""
        return PurePosixPath(name).stem.replace(".", "_")

    @classmethod
    def in_tar(cls, n: int, name: str, mask: bool = False) -> str:
        """Where train.csv points for output image `name` (or its mask) packed in tar n."""
        suffix = ".mask.png" if mask else PurePosixPath(name).suffix
        return f"{cls.tar(n)}/{cls.sample_key(name)}{suffix}"

    @staticmethod
    def member(in_tar: str) -> str:
        """The member name a path into a tar (what in_tar gives) names: shards/000001.tar/000123_cat.jpg -> 000123_cat.jpg."""
        return in_tar.split("/", 2)[2]

    @staticmethod
    def entry(chunk: int) -> str:
        """A journal's record of a finished chunk (in an object store, its object under the journal)."""
        return f"{chunk:06d}.json"

    @classmethod
    def work(cls, s: int, suffix: str) -> str:
        """A file of unit of work (shard) s: its PART of train.csv, its STATS, or its JOURNAL."""
        return f"{cls.WORK}/{s:06d}{suffix}"

    # The folder

    def check(self, inputs: list[Store], reuse: bool) -> None:
        """Refuse an OUT that overlaps the inputs, is not a folder, or is not empty (unless reuse)."""
        for p in inputs:
            if self.store.overlaps(p):
                raise MixcliError(f"OUT {self} overlaps the input folder {p.where()}: choose a separate output folder")
        kind = self.store.kind()
        if kind == "file":
            raise MixcliError(f"OUT {self} exists and is not a folder")
        if kind == "folder" and self.store.entries() and not reuse:
            raise MixcliError(f"OUT {self} exists and is not empty: use --overwrite to write into it, or --resume")

    def prepare(self, inputs: list[Store], reuse: bool, folders: list[str]) -> None:
        """check, then make OUT/.mixcli and the given folders (plain folders, never through a symlink)."""
        self.check(inputs, reuse)
        for key in [self.STATE, *folders]:
            if self.store.is_link(key) or self.store.kind(key) == "file":
                raise MixcliError(f"{self.where(key)} is not a plain folder: refusing to write through it")
            self.store.make_folder(key)

    def holds_only_mixcli(self) -> bool:
        """Whether OUT holds nothing but what a mixcli run makes first (another shard group starting)."""
        return self.store.is_folder() and all(folder and name in (self.STATE, self.IMAGES, *self.BESIDE, self.TARS) for name, folder in self.store.entries())

    def remove_temporaries(self) -> int:
        """Delete what killed writes left in OUT's folders; return the count."""
        staged = [self.staged(self.IMAGES), self.staged(self.MASKS), self.TARS, self.WORK]
        return self.store.remove_temporaries(["", self.IMAGES, *self.BESIDE, self.STATE, *staged], nested=[self.IMAGES, self.LABELS, self.LABEL_MAPS])

    def remove_unlisted(self, listed: list[str], beside: list[str]) -> int:
        """Delete the files under OUT/images, masks, labels and label_maps that `listed` (keys) does
        not name, nor name the image of in a folder of `beside` (those the run writes), and the
        folders left empty, so OUT holds one run; nothing else is touched. Return the count."""
        images = [name for name in listed if name.startswith(f"{self.IMAGES}/")]
        named = {self.LABELS: self.label_name, self.LABEL_MAPS: self.label_map_name}
        keep, count = {*listed, *(named[f](i) for f in beside if f in named for i in images)}, 0
        for top in (self.IMAGES, *self.BESIDE):
            if self.store.is_link(top):
                continue
            stale = [f"{top}/{key}" for key in self.store.files(top) if f"{top}/{key}" not in keep]
            self.store.delete(stale)
            self.store.prune(top)
            count += len(stale)
        return count

    def remove_stale_tars(self, listed: list[str]) -> int:
        """Delete the tar files mixcli names (NNNNNN.tar) that train.csv does not point into (an earlier run's)."""
        if not self.store.is_folder(self.TARS):
            return 0
        keep = {name.split("/")[1] for name in listed if name.startswith(f"{self.TARS}/")}
        stale = [f"{self.TARS}/{name}" for name, folder in self.store.entries(self.TARS) if not folder and _TAR.fullmatch(name) and name not in keep]
        self.store.delete(stale)
        return len(stale)

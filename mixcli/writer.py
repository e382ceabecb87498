"""Writing under OUT: output names, atomic file writes, the output folder's checks, the CSV."""

import errno
import hashlib
import io
import os
import re
import secrets
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

from .errors import MixcliError
from .store import is_remote

IMAGES = "images"
MASKS = "masks"
STATE = ".mixcli"  # the run's record and journal (mixcli.state)
STAGE = f"{STATE}/stage"  # --out-format webdataset: images and masks until their shard is packed
TARS = "shards"  # --out-format webdataset: the tar files
SHARDS = "shards"  # under OUT/.mixcli: the shards' journals, parts and stats (mixcli.state)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ROW_PREFIX = re.compile(r"^\d{6,}_")  # a previous mixcli output's row number, dropped when chaining
_TMP = re.compile(r"^\..+\.tmp\d+(-[0-9a-f]{8})?$")
_FS_LOCK = threading.Lock()
_TMPFILE_LOCK = threading.Lock()
_tmpfile: dict = {"off": not hasattr(os, "O_TMPFILE"), "pid": None, "proc": -1, "mode": 0o644}  # see _tmpfile_dir


class Under(Sequence):
    """The paths root/names[i], each made when asked for: a million Path objects take ~0.5 GB.
    root: a Path or a store.Remote."""

    def __init__(self, root, names: list[str]):
        self.root, self.names = root, names

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.root / n for n in self.names[i]]
        return self.root / self.names[i]

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)


def output_names(images: list[str], ext: str, copies: int = 1, originals: bool = False) -> list[str]:
    """Unique, deterministic names under OUT: images/<output row>_<safe stem><ext>, for the output
    rows c*N + i (copy c of input row i) and, with originals, K*N + i."""
    n = len(images)
    total = n * copies + (n if originals else 0)
    width = max(6, len(str(total - 1)))
    stems = []
    for image in images:
        stem = _ROW_PREFIX.sub("", Path(image.replace("\\", "/")).stem)
        stems.append(_UNSAFE.sub("_", stem).strip("._")[:48])
    return [f"{IMAGES}/{r:0{width}d}{'_' + stems[r % n] if stems[r % n] else ''}{ext}" for r in range(total)]


def label_folder(label) -> str:
    """A class's folder name under OUT/images (--out-layout folders): its name with unsafe characters
    as _, and past 100 characters cut, with a digest of the whole name (file systems allow 255 bytes)."""
    name = _UNSAFE.sub("_", str(label)).strip("._") or "_"
    if len(name) > 100:
        name = f"{name[:100]}_{hashlib.sha256(str(label).encode()).hexdigest()[:12]}"
    return name


def in_folder(name: str, folder: str) -> str:
    """images/<name> -> images/<folder>/<name>."""
    return f"{IMAGES}/{folder}/{Path(name).name}"


def ensure_folder(path: Path) -> None:
    """Create path (a folder under OUT/images) if it is missing; refuse a symlink or a file there."""
    if is_remote(path):  # a store has no folders to make
        return
    try:
        path.mkdir(exist_ok=True)
    except OSError as e:
        raise MixcliError(f"cannot create {path}: {e.strerror}") from None
    if path.is_symlink() or not path.is_dir():
        raise MixcliError(f"{path} is not a plain folder: refusing to write through it")


def mask_names(names: list[str]) -> list[str]:
    """masks/<name>.png beside each output name images/<name>.<ext>."""
    return [f"{MASKS}/{Path(n).stem}.png" for n in names]


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path whole or not at all: never half-written under its name, never through
    a symlink, whatever the moment the process dies.

    On Linux a new file is written unnamed in path's folder (O_TMPFILE) and linked under its name
    once complete: one folder operation and no lock, and a crash leaves nothing behind. Over an
    existing name, elsewhere, or where the file system has no O_TMPFILE, a temporary name is
    created exclusively and renamed over path (a crash may leave the temporary, which the next
    run removes), one thread at a time: threads creating and renaming in one folder contend in
    the kernel, where waiters spin (3000 files, 2 workers: 0.8 s more CPU, 0.5 s more wall).
    """
    write_with(path, lambda f: _fill(f, data))


def write_with(path: Path, fill) -> None:
    """write_atomic of what fill(f) writes into the binary file f (it may be called twice, into a
    second file, if the first way turns out not to work): nothing appears under path if it raises.
    In an object store (a store.Remote) the object is streamed to its final key and completed last."""
    if is_remote(path):
        path.write_with(fill)
        return
    try:
        if not _link_new(path, fill):
            with _FS_LOCK:
                _rename_new(path, lambda tmp: _create(tmp, fill))
    except OSError as e:
        raise MixcliError(f"cannot write {path}: {e.strerror or e}") from None


def write_text_with(path: Path, fill) -> None:
    """write_with for text: fill(text) writes str into a UTF-8 text stream, newlines as written."""

    def binary(f) -> None:
        text = io.TextIOWrapper(f, encoding="utf-8", newline="", write_through=True)
        fill(text)
        text.detach()  # f stays open: write_with closes it

    write_with(path, binary)


def _tmpfile_dir() -> tuple[int, int] | None:
    """(a descriptor of this process's /proc/self/fd, the mode new files get), or None where the
    O_TMPFILE way is off. Opened again in a forked child: the folder is the opener's own."""
    with _TMPFILE_LOCK:
        t = _tmpfile
        if t["off"]:
            return None
        if t["pid"] != os.getpid():
            try:
                t["proc"] = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError:
                t["off"] = True
                return None
            t["pid"], t["mode"] = os.getpid(), 0o666 & ~_umask()
        return t["proc"], t["mode"]


def _umask() -> int:
    """The process's umask, read without changing it (O_TMPFILE ignored it on some kernels before 6.0)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _link_new(path: Path, fill) -> bool:
    """The O_TMPFILE way; False where it is not available (then nothing is left of the attempt)."""
    found = _tmpfile_dir()
    if found is None:
        return False
    proc, mode = found
    try:
        fd = os.open(path.parent, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, mode)
    except OSError as e:
        return _unsupported(e)
    with open(fd, "wb") as f:
        fill(f)
        f.flush()
        link = lambda name: os.link(str(fd), name, src_dir_fd=proc, follow_symlinks=True)  # noqa: E731
        try:  # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N: the one way to name it without privileges
            try:
                link(path)
            except FileExistsError:  # an earlier run's file (or anything planted there): replaced by a rename
                _rename_new(path, link)
        except OSError as e:
            return _unsupported(e)
    return True


def _unsupported(e: OSError) -> bool:
    """False (and the O_TMPFILE way off for this process) for errors that say a file system or
    kernel lacks it, e.g. NFS or a sandbox; re-raise any other."""
    if e.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.EPERM, errno.ENOENT):
        raise e
    with _TMPFILE_LOCK:
        _tmpfile["off"] = True  # its descriptor stays open: another thread may be using it
    return False


def _rename_new(path: Path, make) -> None:
    """make(tmp) a new file under a temporary name beside path, then rename it over path."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{secrets.token_hex(4)}")  # unique across hosts sharing OUT
    try:
        try:
            make(tmp)
        except FileExistsError:  # a leftover (or planted) temporary: remove it, then create afresh
            tmp.unlink()
            make(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise


def _create(path: Path, fill) -> None:
    with open(path, "xb") as f:
        fill(f)


def _fill(f, data: bytes) -> None:
    f.write(data)


def remove_temporaries(out: Path) -> int:
    """Delete temporaries a killed run left in OUT (only names write_atomic makes); return the count."""
    if is_remote(out):  # a store's writes make no temporaries
        return 0
    count = 0
    labels = [p for p in (out / IMAGES).iterdir() if p.is_dir() and not p.is_symlink()] if (out / IMAGES).is_dir() else []
    staged = [out / STAGE / IMAGES, out / STAGE / MASKS, out / TARS, out / STATE / SHARDS]
    for folder in [out, out / IMAGES, out / MASKS, out / STATE, *labels, *staged]:  # labels: --out-layout folders
        if folder.is_dir():
            for p in folder.iterdir():
                if _TMP.match(p.name) and not p.is_dir():
                    p.unlink(missing_ok=True)
                    count += 1
    return count


def remove_unlisted(out: Path, listed: list[str]) -> int:
    """Delete files (and then empty folders) under OUT/images and OUT/masks that `listed` (paths
    relative to OUT) does not name, so OUT holds one run; nothing else is touched. Return the count."""
    keep = set(listed)
    if is_remote(out):
        stale = [f"{top}/{name}" for top in (IMAGES, MASKS) for name in (out / top).find() if f"{top}/{name}" not in keep]
        out.delete(stale)
        return len(stale)
    count = 0
    for top in (out / IMAGES, out / MASKS):
        if not top.is_dir() or top.is_symlink():
            continue
        for folder, dirs, files in os.walk(top, topdown=False):
            here = Path(folder)
            for name in files + [d for d in dirs if (here / d).is_symlink()]:
                if (here / name).relative_to(out).as_posix() not in keep:
                    (here / name).unlink()
                    count += 1
            if here != top and not any(here.iterdir()):
                here.rmdir()
    return count


def remove_files(out, names: list[str]) -> None:
    """Delete the files under OUT with these relative names, those that are there (in a store: in batches)."""
    if is_remote(out):
        out.delete(names)
        return
    for name in names:
        (out / name).unlink(missing_ok=True)


def remove_tree(path) -> None:
    """Delete the folder path and everything under it (or the file path), if it is there."""
    if is_remote(path):
        path.remove_tree()
    elif path.is_file():
        path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


def holds_only_mixcli(out: Path) -> bool:
    """Whether OUT holds nothing but what a mixcli run creates first (another shard group starting)."""
    return out.is_dir() and all(p.name in (STATE, IMAGES, MASKS, TARS) and p.is_dir() for p in out.iterdir())


def check_out(out: Path, inputs: list[Path], reuse: bool) -> None:
    """Refuse an OUT that overlaps the inputs, is not a folder, or is not empty (unless reuse)."""
    out_r = out.resolve()
    for p in inputs:
        p_r = p.resolve()
        if out_r == p_r or p_r in out_r.parents or out_r in p_r.parents:
            raise MixcliError(f"OUT {out} overlaps the input folder {p}: choose a separate output folder")
    if out.exists() and not out.is_dir():
        raise MixcliError(f"OUT {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not reuse:
        raise MixcliError(f"OUT {out} exists and is not empty: use --overwrite to write into it, or --resume")


def prepare_out(out: Path, inputs: list[Path], reuse: bool, masks: bool = False, staged: bool = False) -> None:
    """check_out, then create OUT/images (and OUT/masks) as plain folders; staged (WebDataset
    output): those under OUT/.mixcli/stage instead, and OUT/shards for the tar files."""
    check_out(out, inputs, reuse)
    root = out / STAGE if staged else out
    for sub in (out / STATE, root / IMAGES) + ((root / MASKS,) if masks else ()) + ((out / TARS,) if staged else ()):
        if sub.is_symlink() or (sub.exists() and not sub.is_dir()):
            raise MixcliError(f"{sub} is not a plain folder: refusing to write through it")
        try:
            sub.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise MixcliError(f"cannot create {sub}: {e.strerror}") from None

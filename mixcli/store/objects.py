"""A prefix in an object store as a Store: s3://bucket/prefix (gs://, az://...) through fsspec
(`pip install 'mixcli[s3]'` for S3; the endpoint and credentials come from the usual
environment, e.g. AWS_ENDPOINT_URL).

An object store has no rename, no append and no folders, but an object appears only once it is
whole: a write goes straight to its final key (streamed, large ones in parts, completed last),
a log is one object per record, and a folder exists through the objects under it. Requests
that wait on the network are sent together (a chunk's reads and writes, deletes). Deletes take
keys literally, as listed (fsspec's rm would read * ? [ as patterns). Any failure of the store is a
StoreError: one line, and the run stops (--resume goes on).
"""

import io
import os
import posixpath
import time
from contextlib import contextmanager

from .base import Store
from .fs import Guarded, StoreError, ask, drop, failed, filesystem, together

CONDITIONAL = ("s3", "s3a")  # stores whose fsspec file system writes "create only" (If-None-Match)
READ_BLOCK = 1 << 20  # what a streamed read fetches at a time (the merge reads every shard's part at once)
WRITE_PART = 8 << 20  # a streamed write's part (S3's smallest is 5 MiB): what a write holds in memory
_BATCH = 256  # requests sent together by a delete

class ObjectStore(Store):
    """The objects under protocol://prefix ('bucket/prefix')."""

    def __init__(self, protocol: str, prefix: str):
        self.protocol, self.prefix = protocol, prefix.strip("/")

    def __repr__(self) -> str:
        return f"ObjectStore({self.where()!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, ObjectStore) and (self.protocol, self.prefix) == (other.protocol, other.prefix)

    def __hash__(self) -> int:
        return hash((self.protocol, self.prefix))

    @property
    def fs(self):
        return filesystem(self.protocol)

    def key(self, key: str = "") -> str:
        """The object's full key ('bucket/prefix/key')."""
        return posixpath.normpath(f"{self.prefix}/{key}") if key else self.prefix

    def where(self, key: str = "") -> str:
        return f"{self.protocol}://{self.key(key)}"

    def sub(self, key: str) -> "ObjectStore":
        return ObjectStore(self.protocol, self.key(key))

    def parent(self) -> tuple["ObjectStore", str]:
        head, _, name = self.prefix.rpartition("/")
        return ObjectStore(self.protocol, head or self.prefix), name

    def overlaps(self, other: Store) -> bool:
        if not isinstance(other, ObjectStore) or other.protocol != self.protocol:
            return False
        a, b = self.prefix + "/", other.prefix + "/"
        return a.startswith(b) or b.startswith(a)

    def kind(self, key: str = "") -> str | None:
        """Asked of the store (fsspec's isfile and exists would answer False where it fails)."""
        info = ask("reach", self.where(key), self.fs.info, self.key(key), missing=None)
        return None if info is None else "folder" if info["type"] == "directory" else "file"

    def entries(self, key: str = "") -> list[tuple[str, bool]]:
        top = self.key(key)
        found = ask("list", self.where(key), lambda: self.fs.ls(top, detail=True), missing=[])
        names = sorted((info["name"].strip("/"), info.get("type") == "directory") for info in found)
        return [(name.rsplit("/", 1)[-1], folder) for name, folder in names if name != top]

    def files(self, key: str = "", hidden: bool = True) -> list[str]:
        top = self.key(key)
        found = ask("list", self.where(key), self.fs.find, top, missing=[])
        skip = len(top) + 1
        names = sorted(name.strip("/")[skip:] for name in found if name.strip("/").startswith(top + "/"))
        return names if hidden else [n for n in names if not any(part.startswith(".") for part in n.split("/"))]

    def has(self, keys: list[str]) -> list[bool]:
        """From one listing of the prefix, not a request a key."""
        objects = set(self.files())
        return [os.path.normpath(key).lstrip("/") in objects for key in keys]

    def read(self, key: str) -> bytes:
        return ask("read", self.where(key), self.fs.cat_file, self.key(key), passing=(FileNotFoundError, IsADirectoryError))

    def reader(self, keys: list[str]):
        """Every object requested at once, now: each request waits on the network, not on a CPU."""
        got = dict(enumerate(self._fetch(keys))) if keys else {}

        def read(k: int) -> bytes:
            value = got.pop(k)
            if isinstance(value, BaseException):
                raise value
            return value

        return read

    def _fetch(self, keys: list[str]) -> list:
        """Each object's bytes, or the FileNotFoundError of one that is missing."""
        got = together(self.fs, "cat_file", [(self.key(k),) for k in keys])
        for k, value in zip(keys, got):
            if isinstance(value, BaseException) and not isinstance(value, FileNotFoundError):
                raise failed("read", self.where(k), value)
        return got

    def open(self, key: str):
        where = self.where(key)
        f = ask("read", where, lambda: self.fs.open(self.key(key), "rb", block_size=READ_BLOCK), passing=(FileNotFoundError,))
        return io.BufferedReader(Guarded(f, where, "read"))  # small: the store's file holds READ_BLOCK already

    def write(self, key: str, data: bytes, exclusive: bool = False) -> None:
        """exclusive: a conditional write where the store has one, else a plain one (the caller reads back)."""
        self._write_with(key, lambda f: f.write(data), exclusive)

    def write_with(self, key: str, fill) -> None:
        self._write_with(key, fill, False)

    def _write_with(self, key: str, fill, exclusive: bool) -> None:
        """Stream what fill(f) writes to the object (large ones in parts), completed only if fill
        returns: an object that fill fails is never made."""
        where, conditional = self.where(key), exclusive and self.protocol in CONDITIONAL
        try:
            f = ask("write", where, lambda: self.fs.open(self.key(key), "xb" if conditional else "wb", block_size=WRITE_PART), passing=(FileExistsError,))
            try:
                fill(Guarded(f, where, "write"))  # the store's failures on the way come out as StoreErrors
            except BaseException as e:
                drop(f)
                if isinstance(e, OSError):  # what fill read went missing (a part, a staged image): as a local write says
                    raise failed("write", where, e) from None
                raise
            try:
                f.close()  # the object is made here (a PUT, or the multipart upload completed)
            except FileExistsError:
                drop(f)
                raise
            except Exception as e:
                drop(f)
                raise failed("write", where, e) from None
        except StoreError:
            if exclusive:  # another writer's came first, and the store said so as a conflict (AWS: 409)
                time.sleep(1)
                if self.is_file(key):
                    raise FileExistsError(where) from None
            raise

    @contextmanager
    def batch(self):
        """The objects are sent together at the end of the block (each whole or absent: StoreError if any failed)."""
        items: list = []
        yield lambda key, data: items.append((key, data))
        if items:
            got = together(self.fs, "pipe_file", [(self.key(k), data) for k, data in items])
            for (k, _), value in zip(items, got):
                if isinstance(value, BaseException):
                    raise failed("write", self.where(k), value)

    def append(self, log: str, name: str, data: bytes) -> None:
        """A log is a prefix: each record is an object of its own (a store has no append)."""
        self.write(f"{log}/{name}", data)

    def records(self, log: str) -> list[bytes]:
        """A record gone meanwhile (another copy of the run finished the log) is left out."""
        names = self.files(log)
        return [data for data in self._fetch([f"{log}/{n}" for n in names]) if isinstance(data, bytes)] if names else []

    def make_folder(self, key: str) -> None:
        """Nothing to make: a prefix exists through its objects."""

    def delete(self, keys: list[str]) -> None:
        """Requested together, one key a request, each failure seen (a bulk delete's per-key errors go unread)."""
        for start in range(0, len(keys), _BATCH):
            part = keys[start : start + _BATCH]
            got = together(self.fs, "rm_file", [(f"{self.prefix}/{k}",) for k in part])  # literal: as listed
            for k, value in zip(part, got):
                if isinstance(value, BaseException) and not isinstance(value, FileNotFoundError):
                    raise failed("delete", self.where(k), value)

    def delete_tree(self, key: str) -> None:
        self.sub(key).delete(self.files(key))

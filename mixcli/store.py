"""Where DATA and OUT live: a local folder (a pathlib.Path), or a prefix in an object store (a Remote).

A Remote is a URL (s3://bucket/prefix, gs://..., az://...) reached through fsspec
(`pip install 'mixcli[s3]'` for S3; the endpoint and credentials come from the usual
environment, e.g. AWS_ENDPOINT_URL). It answers the few Path methods mixcli uses, so the
pipeline is one for both; what differs is said where it differs. An object store has no
rename, no append and no folders, but an object appears only once it is whole: a write goes
straight to its final key (never half there), a journal is one object per chunk, and a
shard's stats object, written last, marks it done. file://PATH is the local path PATH.
"""

import os
import posixpath
from pathlib import Path, PurePosixPath

from .errors import MixcliError, UsageError

# Stores where an object is visible only once completely written.
STORES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss")
_EXTRA = {"s3": "s3fs (pip install 'mixcli[s3]')", "s3a": "s3fs (pip install 'mixcli[s3]')", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs", "abfss": "adlfs"}
_filesystems: dict = {}
# s3fs reads an object with one GET, not a HEAD for its size first (to fetch big ones in parallel parts).
_OPTIONS = {"s3": {"max_concurrency": 1}, "s3a": {"max_concurrency": 1}}
READ_BLOCK = 1 << 20  # what a streamed read fetches at a time (the merge reads every shard's part at once)
WRITE_PART = 8 << 20  # a streamed write's part (S3's smallest is 5 MiB): what a write holds in memory


class StoreError(MixcliError):
    """The object store failed a request (unreachable, refused, throttled): the run stops, --resume goes on."""


def location(value):
    """A CLI or API path as a Path or, for a URL of an object store, a Remote."""
    if isinstance(value, (Path, Remote)):
        return value
    text = os.fspath(value)
    if "://" not in text:
        return Path(text)
    protocol, rest = text.split("://", 1)
    if protocol == "file":
        return Path(rest)
    if protocol not in STORES:
        raise UsageError(f"{text}: mixcli reads and writes local folders and object stores ({', '.join(p + '://' for p in STORES)}), not {protocol}://")
    key = posixpath.normpath("/" + rest).strip("/")
    if not key:
        raise UsageError(f"{text}: name a bucket (and a prefix), e.g. {protocol}://bucket/data")
    return Remote(protocol, key)


def is_remote(path) -> bool:
    return isinstance(path, Remote)


def filesystem(protocol: str):
    """fsspec's file system for protocol, made once per process, with no listing cache (other machines write too)."""
    fs = _filesystems.get(protocol)
    if fs is None:
        try:
            import fsspec

            fs = fsspec.filesystem(protocol, use_listings_cache=False, **_OPTIONS.get(protocol, {}))
        except ImportError:
            raise MixcliError(f"{protocol}:// URLs need {_EXTRA.get(protocol, 'fsspec')}") from None
        _filesystems[protocol] = fs
    return fs


class Remote:
    """An object (or a prefix of objects) in a store: protocol and key ('bucket/prefix/name')."""

    __slots__ = ("protocol", "key", "kind")

    def __init__(self, protocol: str, key: str, kind: str | None = None):
        self.protocol, self.key = protocol, key.strip("/")
        self.kind = kind  # "file" or "directory" where a listing said so: asking again costs a request

    @property
    def fs(self):
        return filesystem(self.protocol)

    def __str__(self) -> str:
        return f"{self.protocol}://{self.key}"

    def __repr__(self) -> str:
        return f"Remote({str(self)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Remote) and (self.protocol, self.key) == (other.protocol, other.key)

    def __hash__(self) -> int:
        return hash((self.protocol, self.key))

    def __truediv__(self, name) -> "Remote":
        return Remote(self.protocol, posixpath.normpath(f"{self.key}/{name}"))

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        return PurePosixPath(self.name).stem

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix

    @property
    def parent(self) -> "Remote":
        return Remote(self.protocol, self.key.rsplit("/", 1)[0]) if "/" in self.key else self

    @property
    def parents(self) -> list:
        found, here = [], self
        while "/" in here.key:
            here = here.parent
            found.append(here)
        return found

    def with_name(self, name: str) -> "Remote":
        return self.parent / name

    def relative_to(self, other: "Remote") -> PurePosixPath:
        return PurePosixPath(self.key).relative_to(other.key)

    def resolve(self) -> "Remote":
        return self

    def as_posix(self) -> str:
        return str(self)

    def is_symlink(self) -> bool:
        return False

    def exists(self) -> bool:
        return self._ask(self.fs.exists)

    def is_file(self) -> bool:
        return self.kind == "file" if self.kind else self._ask(self.fs.isfile)

    def is_dir(self) -> bool:
        return self.kind == "directory" if self.kind else self._ask(self.fs.isdir)

    def iterdir(self):
        """The objects and prefixes right under this prefix."""
        try:
            found = self.fs.ls(self.key, detail=True)
        except FileNotFoundError:
            found = []
        except Exception as e:
            raise _failed("list", self, e) from None
        entries = sorted((info["name"].strip("/"), info.get("type")) for info in found)
        return [Remote(self.protocol, name, kind) for name, kind in entries if name != self.key]

    def find(self) -> list[str]:
        """Every object under this prefix, as keys relative to it, sorted."""
        try:
            found = self.fs.find(self.key)
        except FileNotFoundError:
            return []
        except Exception as e:
            raise _failed("list", self, e) from None
        skip = len(self.key) + 1
        return sorted(name.strip("/")[skip:] for name in found if name.strip("/").startswith(self.key + "/"))

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Nothing to do: a store's prefixes exist through the objects under them."""

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            self.fs.rm_file(self.key)
        except FileNotFoundError:
            if not missing_ok:
                raise
        except Exception as e:
            raise _failed("delete", self, e) from None

    def remove_tree(self) -> None:
        """Delete every object under this prefix."""
        self.delete(self.find())

    def delete(self, names: list[str]) -> None:
        """Delete the objects under this prefix with these relative keys (in batches, where the store has them)."""
        if names:
            try:
                self.fs.rm([f"{self.key}/{name}" for name in names])
            except FileNotFoundError:
                pass
            except Exception as e:
                raise _failed("delete", self, e) from None

    def read_bytes(self) -> bytes:
        """The object's bytes; FileNotFoundError if there is none, StoreError if the store fails."""
        try:
            return self.fs.cat_file(self.key)
        except (FileNotFoundError, IsADirectoryError):
            raise
        except Exception as e:
            raise _failed("read", self, e) from None

    def read_text(self) -> str:
        return self.read_bytes().decode()

    def open(self, mode: str = "r", **kwargs):
        """A file object reading the object as it streams in (for reading: writes go through write_with)."""
        if "r" not in mode:
            raise ValueError("Remote.open reads only: write with write_with")
        try:
            return self.fs.open(self.key, mode, block_size=READ_BLOCK, **kwargs)
        except FileNotFoundError:
            raise
        except Exception as e:
            raise _failed("read", self, e) from None

    def write_with(self, fill, exclusive: bool = False) -> None:
        """Write what fill(f) writes into the binary file f as this object, streamed (large ones in
        parts), and complete it only if fill returns: an object that fill fails is never made.
        exclusive: FileExistsError if the object exists (a conditional write)."""
        try:
            f = self.fs.open(self.key, "xb" if exclusive else "wb", block_size=WRITE_PART)
        except FileExistsError:
            raise
        except Exception as e:
            raise _failed("write", self, e) from None
        try:
            fill(f)
        except BaseException:
            try:
                f.discard()  # the parts uploaded so far are dropped; the object is not made
            finally:
                f.closed = True
            raise
        try:
            f.close()
        except FileExistsError:
            raise
        except Exception as e:
            raise _failed("write", self, e) from None

    def _ask(self, question) -> bool:
        try:
            return bool(question(self.key))
        except Exception as e:
            raise _failed("reach", self, e) from None


def _failed(what: str, where: Remote, e: Exception) -> StoreError:
    detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return StoreError(f"cannot {what} {where}: {detail}")

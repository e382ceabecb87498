"""Where DATA and OUT live: a local folder (a pathlib.Path), or a prefix in an object store (a Remote).

A Remote is a URL (s3://bucket/prefix, gs://..., az://...) reached through fsspec
(`pip install 'mixcli[s3]'` for S3; the endpoint and credentials come from the usual
environment, e.g. AWS_ENDPOINT_URL). It answers the few Path methods mixcli uses, so the
pipeline is one for both; what differs is said where it differs. An object store has no
rename, no append and no folders, but an object appears only once it is whole: a write goes
straight to its final key (never half there), a journal is one object per chunk, and a
shard's stats object, written last, marks it done. file://PATH is the local path PATH.
"""

import io
import os
import posixpath
from pathlib import Path

from .errors import MixcliError, UsageError

# Stores where an object is visible only once completely written.
STORES = ("s3", "s3a", "gs", "gcs", "az", "abfs")
CONDITIONAL = ("s3", "s3a")  # stores whose fsspec file system writes "create only" (If-None-Match)
_EXTRA = {"s3": "s3fs (pip install 'mixcli[s3]')", "s3a": "s3fs (pip install 'mixcli[s3]')", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}
_filesystems: dict = {}
# s3fs: an object read with one GET, not a HEAD for its size first (to fetch big ones in parallel
# parts); more connections than botocore's 10, as every worker sends a chunk's requests at once.
_S3 = {"max_concurrency": 1, "config_kwargs": {"max_pool_connections": 128}}
_OPTIONS = {"s3": _S3, "s3a": _S3}
READ_BLOCK = 1 << 20  # what a streamed read fetches at a time (the merge reads every shard's part at once)
WRITE_PART = 8 << 20  # a streamed write's part (S3's smallest is 5 MiB): what a write holds in memory
_BATCH = 256  # requests sent together by a delete


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
    fs = _filesystems.get((protocol, os.getpid()))  # a forked child makes its own (fsspec's are not fork-safe)
    if fs is None:
        try:
            import fsspec

            options = dict(_OPTIONS.get(protocol, {}))
            for k, v in fsspec.config.conf.get(protocol, {}).items():  # the user's fsspec settings win over mixcli's
                options[k] = {**options[k], **v} if isinstance(v, dict) and isinstance(options.get(k), dict) else v
            fs = fsspec.filesystem(protocol, use_listings_cache=False, **options)
        except ImportError:
            raise MixcliError(f"{protocol}:// URLs need {_EXTRA.get(protocol, 'fsspec')}") from None
        except ValueError as e:
            raise MixcliError(f"{protocol}:// URLs: {e}") from None
        _filesystems[protocol, os.getpid()] = fs
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
    def parent(self) -> "Remote":
        return Remote(self.protocol, self.key.rsplit("/", 1)[0]) if "/" in self.key else self

    @property
    def parents(self) -> list:
        found, here = [], self
        while "/" in here.key:
            here = here.parent
            found.append(here)
        return found

    def resolve(self) -> "Remote":
        return self

    def is_symlink(self) -> bool:
        return False

    def __lt__(self, other: "Remote") -> bool:
        return (self.protocol, self.key) < (other.protocol, other.key)

    def exists(self) -> bool:
        return self._kind() is not None

    def is_file(self) -> bool:
        return (self.kind or self._kind()) == "file"

    def is_dir(self) -> bool:
        return (self.kind or self._kind()) == "directory"

    def _kind(self) -> str | None:
        """"file", "directory" (a prefix with objects under it) or None; StoreError if the store
        fails (fsspec's isfile and exists would answer False)."""
        try:
            return self.fs.info(self.key)["type"]
        except FileNotFoundError:
            return None
        except Exception as e:
            raise _failed("reach", self, e) from None

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
        """Delete the object (a store says nothing of one that is not there)."""
        self.parent.delete([self.name])

    def remove_tree(self) -> None:
        """Delete every object under this prefix."""
        self.delete(self.find())

    def delete(self, names: list[str]) -> None:
        """Delete the objects under this prefix with these relative keys, requested together, one
        key a request: taken literally (fsspec's rm reads * ? [ as patterns) and each failure seen
        (a bulk delete's per-key errors go unread)."""
        for start in range(0, len(names), _BATCH):
            part = names[start : start + _BATCH]
            got = _together(self.fs, "rm_file", [(f"{self.key}/{name}",) for name in part])
            for name, value in zip(part, got):
                if isinstance(value, BaseException) and not isinstance(value, FileNotFoundError):
                    raise _failed("delete", self / name, value)

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
        """A file object reading the object as it streams in (for reading: writes go through write_with);
        text modes take encoding and newline. A failure on the way is a StoreError."""
        if mode not in ("r", "rt", "rb"):
            raise ValueError("Remote.open reads only: write with write_with")
        try:
            f = _Guarded(self.fs.open(self.key, "rb", block_size=READ_BLOCK), self, "read")
        except FileNotFoundError:
            raise
        except Exception as e:
            raise _failed("read", self, e) from None
        f = io.BufferedReader(f)  # small: the store's file holds READ_BLOCK already
        return f if mode == "rb" else io.TextIOWrapper(f, **kwargs)

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
            fill(_Guarded(f, self, "write"))  # the store's failures on the way come out as StoreErrors
        except BaseException as e:
            _drop(f)
            if isinstance(e, OSError):  # what fill read went missing (a part, a staged image): as a local write says
                raise _failed("write", self, e) from None
            raise
        try:
            f.close()  # the object is made here (a PUT, or the multipart upload completed)
        except FileExistsError:
            _drop(f)
            raise
        except Exception as e:
            _drop(f)
            raise _failed("write", self, e) from None


class _Guarded(io.RawIOBase):
    """A store's file object whose failures on the way (a part not sent, a range not read) are StoreErrors."""

    def __init__(self, f, where: Remote, what: str):
        self._f, self._where, self._what = f, where, what

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except MixcliError:
            raise
        except Exception as e:
            raise _failed(self._what, self._where, e) from None

    def readable(self) -> bool:
        return self._what == "read"

    def writable(self) -> bool:
        return self._what == "write"

    def readinto(self, b) -> int:
        data = self._call(self._f.read, len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._call(self._f.read, size)

    def write(self, data) -> int:
        return self._call(self._f.write, data)

    def flush(self) -> None:
        if self._what == "write" and not self.closed and not self._f.closed:
            self._call(self._f.flush)

    def close(self) -> None:
        if self._what == "read" and not self.closed:
            self._call(self._f.close)
        super().close()  # a write's file is completed (or dropped) by write_with, not here


def _drop(f) -> None:
    """Abandon a store's file being written: its uploaded parts are dropped (as far as the store can be reached)."""
    try:
        f.discard()
    except Exception:
        pass  # unreachable: its parts wait for the bucket's lifecycle rule
    finally:
        f.closed = True  # else its __del__ would complete the upload


def fetch(paths: list) -> list:
    """The bytes of each Remote in paths (all in one store), requested at once: each request waits
    on the network, not on a CPU. A missing object is its FileNotFoundError in the list."""
    got = _together(paths[0].fs, "cat_file", [(p.key,) for p in paths])
    for p, value in zip(paths, got):
        if isinstance(value, BaseException) and not isinstance(value, FileNotFoundError):
            raise _failed("read", p, value)
    return got


def send(items: list) -> None:
    """Write each (Remote, bytes) as its object, requested at once; StoreError if any failed (each
    object is whole or absent: the run stops before its chunk is journalled, and is resumed)."""
    got = _together(items[0][0].fs, "pipe_file", [(p.key, data) for p, data in items])
    for (p, _), value in zip(items, got):
        if isinstance(value, BaseException):
            raise _failed("write", p, value)


def _together(fs, method: str, calls: list) -> list:
    """The results (or exceptions) of fs.method(*args) for each args of calls: gathered on fsspec's
    event loop for an async store (its coroutine is _method), one after another otherwise."""
    if not getattr(fs, "async_impl", False):
        return [_result(getattr(fs, method), *args) for args in calls]
    import asyncio

    from fsspec.asyn import sync

    async def gather():
        coroutine = getattr(fs, "_" + method)
        return await asyncio.gather(*(coroutine(*args) for args in calls), return_exceptions=True)

    return sync(fs.loop, gather)


def _result(fn, *args):
    try:
        return fn(*args)
    except Exception as e:
        return e


def _failed(what: str, where: Remote, e: Exception) -> MixcliError:
    if isinstance(e, MixcliError):  # already one line (no s3fs, say)
        return e
    detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return StoreError(f"cannot {what} {where}: {detail}")

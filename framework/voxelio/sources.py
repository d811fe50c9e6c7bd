"""Where an image's bytes come from: file names, open file objects and URLs.

:func:`voxelio.load` and :func:`voxelio.save` take any of

- a file name (``str`` or ``os.PathLike``): the ordinary path, unchanged;
- an open binary file object (``io.BytesIO``, an open file, a pipe or a
  socket's file): the format is recognised from the content (a ``name``
  attribute, if any, is used like a file name);
- a URL with a protocol (``file://``, ``memory://``, ``s3://``, ``gs://``,
  ``https://`` ...), opened through fsspec (``pip install voxelio[remote]``),
  with ``storage_options`` passed to the filesystem.

Remote files are opened for random access with :data:`REMOTE_OPEN_OPTIONS`
(no read-ahead cache: each read the decoder makes becomes one ranged
request, so reading one volume fetches that volume's bytes, or for a
blocked gzip file the members holding it), except that a file of at most
:data:`WHOLE_FETCH_MAX` bytes is fetched whole in one request. Pass
``open_options`` to change that (e.g. ``{"cache_type": "readahead",
"block_size": 4 << 20}`` for sequential reads over a slow link). A missing
file raises FileNotFoundError (an HTTP 404 too); a store that cannot be
reached or refuses the request raises :class:`~voxelio.errors.ImageFileError`.

fsspec is imported only when a URL is used; ``import voxelio`` never imports it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ._streams import SpooledStream, is_seekable
from .errors import ImageFileError

#: how remote files are opened unless ``open_options`` says otherwise
REMOTE_OPEN_OPTIONS: dict[str, Any] = {"cache_type": "none", "block_size": 1 << 20}
#: a remote file this small is fetched whole in one request when opened (unless
#: ``open_options`` names a ``cache_type``): the decoder's small reads would each
#: cost a round trip
WHOLE_FETCH_MAX = 256 * 1024

Opener = Callable[[str], BinaryIO]


def is_url(target: Any) -> bool:
    """True for a string naming a protocol (``s3://...``); Windows drives are not URLs."""
    if not isinstance(target, str):
        return False
    head, sep, _ = target.partition("://")
    return bool(sep) and len(head) > 1 and head.replace("+", "").replace("-", "").isalnum()


def is_file_object(target: Any) -> bool:
    """True for objects that read or write bytes (not names)."""
    return not isinstance(target, (str, bytes, os.PathLike)) and (
        hasattr(target, "read") or hasattr(target, "write")
    )


@dataclass
class RemoteFiles:
    """A URL resolved through fsspec: the filesystem, the path in it and how to open files."""

    fs: Any
    path: str
    open_options: dict[str, Any]
    url: str
    #: files up to this size are fetched whole, in one request (0: never)
    whole_below: int = 0
    sizes: dict[str, int | None] = field(default_factory=dict)

    def size(self, path: str) -> int | None:
        """The size of ``path`` in bytes (None if the store does not say), looked up once.

        Raises
        ------
        FileNotFoundError
            If the store has no such file.
        ImageFileError
            If the store cannot be reached or refuses the request, or
            ``path`` is a folder.
        """
        if path not in self.sizes:
            try:
                info = self.fs.info(path)
            except Exception as err:  # fsspec backends raise their own kinds
                raise _lookup_error(err, self.unstrip(path)) from err
            if info.get("type") == "directory":
                raise ImageFileError(f"{self.unstrip(path)!r} is a folder, not an image file")
            size = info.get("size")
            self.sizes[path] = int(size) if size is not None else None
        return self.sizes[path]

    def open(self, path: str) -> BinaryIO:
        """Open ``path`` of this filesystem for random-access reading.

        The size looked up first spares the file object its own lookup; a
        file of at most :attr:`whole_below` bytes is fetched in one request
        (the decoder's many small reads then cost none).
        """
        size = self.size(path)
        options = dict(self.open_options)
        if size is not None:
            options.setdefault("size", size)
            if size <= self.whole_below:
                options["cache_type"] = "all"
        try:
            return self.fs.open(path, "rb", **options)
        except FileNotFoundError:
            raise FileNotFoundError(2, "No such file", self.unstrip(path)) from None
        except OSError as err:
            raise ImageFileError(f"cannot open {self.unstrip(path)!r}: {err}") from err

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(path))

    def unstrip(self, path: str) -> str:
        """``path`` as a URL with this filesystem's protocol."""
        return self.fs.unstrip_protocol(path)

    @property
    def is_local(self) -> bool:
        return "file" in _protocols(self.fs)


def _lookup_error(err: Exception, url: str) -> Exception:
    """What a failed size lookup of ``url`` means: a missing file or an unreachable store.

    Some fsspec backends (HTTP) report every failure as FileNotFoundError
    and chain the real cause: a 404/410 answer is a missing file, a refused
    connection or another status is not.
    """
    chained = err.__cause__ if isinstance(err, FileNotFoundError) else None
    cause = chained if chained is not None else err
    status = getattr(cause, "status", None)
    if isinstance(cause, FileNotFoundError) or status in (404, 410):
        return FileNotFoundError(2, "No such file", url)
    if status is not None:
        why = f"the server answered {status} {getattr(cause, 'message', '')}".rstrip()
    else:
        why = f"{type(cause).__name__}: {cause}"
    return ImageFileError(f"cannot reach {url!r}: {why}")


def _protocols(fs: Any) -> tuple[str, ...]:
    proto = fs.protocol
    return (proto,) if isinstance(proto, str) else tuple(proto)


def resolve_url(
    url: str, storage_options: dict[str, Any] | None = None,
    open_options: dict[str, Any] | None = None,
) -> RemoteFiles:
    """The fsspec filesystem and path behind ``url``.

    Raises
    ------
    ImageFileError
        If fsspec (or the protocol's package, such as s3fs) is not installed.
    """
    try:
        import fsspec.core
    except ImportError:
        raise ImageFileError(
            f"reading or writing URLs such as {url!r} needs fsspec: pip install 'voxelio[remote]'"
        ) from None
    try:
        fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
    except ImportError as err:
        raise ImageFileError(f"cannot open {url!r}: {err}") from None
    except ValueError as err:
        raise ImageFileError(f"cannot open {url!r}: {err}") from None
    user = open_options or {}
    whole_below = 0 if "cache_type" in user else WHOLE_FETCH_MAX
    return RemoteFiles(fs, path, {**REMOTE_OPEN_OPTIONS, **user}, url, whole_below)


def local_path(remote: RemoteFiles) -> str:
    """The local file name of a ``file://`` URL."""
    return os.path.abspath(remote.path)


def readable_object(fobj: Any) -> Any:
    """``fobj`` ready for reading: a stream that cannot seek is spooled (kept as read)."""
    if not hasattr(fobj, "read"):
        raise ImageFileError(f"cannot read an image from a {type(fobj).__name__}: no read method")
    if getattr(fobj, "closed", False):
        raise ImageFileError(f"cannot read an image from a closed {type(fobj).__name__}")
    mode = getattr(fobj, "mode", "rb")
    if isinstance(mode, str) and "b" not in mode and "r" in mode:
        raise ImageFileError("images are binary: open the file with mode 'rb', not 'r'")
    return fobj if is_seekable(fobj) else SpooledStream(fobj)


def object_name(fobj: Any) -> str | None:
    """A file object's ``name`` if it is a usable file name (not a descriptor number)."""
    name = getattr(fobj, "name", None)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    return name if isinstance(name, str) and name else None


# -- saving -----------------------------------------------------------------------
@contextlib.contextmanager
def staged_save(name: str) -> Iterator[str]:
    """A temporary local file named like ``name`` (same suffixes); the folder goes at exit.

    A save to a URL or a file object is written here first by the ordinary
    (atomic, local) save, then copied to its target in one piece.
    """
    folder = tempfile.mkdtemp(prefix="voxelio-save-")
    try:
        yield os.path.join(folder, os.path.basename(name.rstrip("/")) or "image")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def written_files(staged: str) -> list[str]:
    """Files the staged save wrote (a pair writes two), in name order."""
    folder = os.path.dirname(staged)
    return sorted(os.path.join(folder, n) for n in os.listdir(folder))


def upload(remote: RemoteFiles, local_files: list[str], staged: str) -> None:
    """Copy the staged files to the store beside ``remote.path``.

    Each file is one ``put``: object stores make an object visible only once
    its upload completes (atomic per object); the two files of a pair are
    two objects, uploaded image data first and header last.
    """
    folder = remote.path.rsplit("/", 1)[0] if "/" in remote.path else ""
    stem_local = os.path.basename(staged)
    target_name = remote.path.rsplit("/", 1)[-1]
    ordered = sorted(local_files, key=lambda f: os.path.basename(f) == stem_local)
    for local in ordered:
        base = os.path.basename(local)
        base = target_name if base == stem_local else base
        dest = f"{folder}/{base}" if folder else base
        try:
            remote.fs.put_file(local, dest)
        except OSError as err:
            raise ImageFileError(f"cannot write {remote.unstrip(dest)!r}: {err}") from err


def copy_into(fobj: Any, local: str) -> None:
    """Write the bytes of ``local`` to the file object ``fobj`` from where it is."""
    if not hasattr(fobj, "write"):
        raise ImageFileError(f"cannot save an image to a {type(fobj).__name__}: no write method")
    with open(local, "rb") as src:
        shutil.copyfileobj(src, fobj, 1 << 20)
    flush = getattr(fobj, "flush", None)
    if flush is not None:
        flush()


__all__ = [
    "REMOTE_OPEN_OPTIONS",
    "WHOLE_FETCH_MAX",
    "RemoteFiles",
    "is_file_object",
    "is_url",
    "resolve_url",
]

"""Which file a name points at, and whether it is one voxelio may read.

Two promises rest on this module:

- only regular files are opened by name for reading: a FIFO, a device or a
  socket would block or never end, so it is refused with ImageFileError
  before anything waits on it;
- an image remembers the identity of the files it was loaded from
  (device, inode, size, modification time) so that reading its data after
  another program replaced or rewrote them raises instead of returning the
  new file's values.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from typing import Any

from ._records import TupleRecord, field_at
from .errors import ImageFileError


class FileIdentity(TupleRecord):
    """What tells one version of a file from another."""

    __slots__ = ()
    _fields = ("device", "inode", "size", "mtime_ns")
    device = field_at(0, "Device number.")
    inode = field_at(1, "Inode number.")
    size = field_at(2, "Size in bytes.")
    mtime_ns = field_at(3, "Modification time, in nanoseconds.")

    def __new__(cls, device: int, inode: int, size: int, mtime_ns: int) -> FileIdentity:
        return tuple.__new__(cls, (device, inode, size, mtime_ns))

    @classmethod
    def of_stat(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def same_inode(self, other: FileIdentity) -> bool:
        return (self.device, self.inode) == (other.device, other.inode)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def check_regular(st: os.stat_result, name: Any, what: str = "file") -> None:
    """Raise ImageFileError unless ``st`` describes a regular file."""
    if not stat.S_ISREG(st.st_mode):
        raise ImageFileError(
            f"{what} {os.fspath(name)!r} is {_kind(st.st_mode)}, not a regular file: voxelio "
            "reads images only from regular files by name (open a stream yourself and pass "
            "the file object to read from it)"
        )


def identify(name: Any, what: str = "file") -> FileIdentity:
    """The identity of the regular file ``name`` (follows symbolic links).

    Raises
    ------
    FileNotFoundError
        If nothing exists at ``name``.
    ImageFileError
        If it is not a regular file.
    """
    st = os.stat(name)
    check_regular(st, name, what)
    return FileIdentity.of_stat(st)


def open_regular(name: Any) -> Any:
    """Open a regular file for binary reading without ever blocking on a FIFO.

    The file is opened non-blocking and checked with ``fstat`` on the open
    descriptor, so a name swapped for a FIFO between a check and the open
    cannot hang the caller either.
    """
    return open_identified(name)[0]


def open_identified(name: Any) -> tuple[Any, FileIdentity]:
    """:func:`open_regular`, with the identity of the file it opened.

    The identity comes from the open descriptor: it describes the version
    read, even if the name is replaced a moment later.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(name, flags)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):  # as open() says it
            raise IsADirectoryError(errno.EISDIR, "Is a directory", os.fspath(name))
        check_regular(st, name)
        if flags & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        raw = io.FileIO(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    raw.name = os.fspath(name)  # as open() would name it (messages quote it)
    return io.BufferedReader(raw), FileIdentity.of_stat(st)


def changed_message(name: str, then: FileIdentity, now: FileIdentity | None) -> str:
    """Why an image's data can no longer be read from ``name``."""
    if now is None:
        how = "was removed"
    elif not then.same_inode(now):
        how = "was replaced by another file (another save over it?)"
    else:
        how = "was modified"
    return (
        f"{name!r} {how} after the image was loaded: its data would no longer match the "
        "header read at load time; load the file again"
    )

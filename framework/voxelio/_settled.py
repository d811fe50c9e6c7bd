"""Loading files only when no save is changing them.

A load reads a header, then an image's data lazily; for a pair, two files.
Another process may replace those files meanwhile. :func:`load_settled`
notes the identity of every named file before the load and again after
it, and looks at the journal savers of several files keep
(:mod:`voxelio._replace`):

- unchanged identities and no save in progress: the load saw one version
  of every file (a save that replaced any of them in between would have
  changed its identity; one still replacing would hold the journal);
- a save in progress or files changed: the load is retried, shortly after;
- a journal left by a save killed half-way: the files may not belong
  together, so the load is refused with ImageFileError that says where the
  previous files are kept.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._fileidentity import FileIdentity
from .errors import ImageFileError, VoxelioError

T = TypeVar("T")

#: loads tried before giving up on files that keep changing
ATTEMPTS = 8
#: first pause between attempts (doubled each time)
PAUSE = 0.005


def _identity(path: str) -> FileIdentity | None:
    try:
        return FileIdentity.of_stat(os.stat(path))
    except OSError:
        return None


def _hold(path: str) -> tuple[int | None, FileIdentity | None]:
    """An open descriptor on ``path`` and its identity (None, None if it cannot be opened).

    Holding the file open keeps its inode from being freed and its number
    reused by a new file during the load: file times are too coarse (a
    clock tick) to tell two quick saves of the same size apart otherwise.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None, None
    try:
        return fd, FileIdentity.of_stat(os.fstat(fd))
    except OSError:
        os.close(fd)
        return None, None


def _borrow_or_hold(path: str, borrow: bool) -> tuple[int | None, FileIdentity | None]:
    """:func:`_hold`, unless ``borrow`` and the load in progress holds ``path`` open."""
    identity = _held_by_this_load(path) if borrow else None
    return (None, identity) if identity is not None else _hold(path)


def _held_by_this_load(path: str) -> FileIdentity | None:
    """The identity of ``path`` as the load in progress already holds it open, or None.

    Within ``voxelio.load`` the reader that recognised the format stays open
    until the format's loader takes it (and, in the image's proxy, after):
    its descriptor pins the inode just as :func:`_hold` would, and its
    identity is that of the version the loader reads.
    """
    from .openfiles import current_load_hand_off

    hand_off = current_load_hand_off()
    return None if hand_off is None else hand_off.identity_of(path)


def _journal_state(paths: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """'absent', 'busy' (a save holds it) or 'stale' (a save died half-way)."""
    from ._replace import journal_path, read_journal

    path = journal_path(paths)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return "absent", []
    except OSError:
        return "absent", []  # unreadable: nothing to learn from it
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return "busy", []
        except (ImportError, OSError):
            pass
        # a saver that finished removes the journal, then releases its lock: the
        # lock taken may be on a removed journal that still lists what that
        # save was doing (not a save killed half-way)
        try:
            if not os.path.samestat(os.fstat(fd), os.stat(path)):
                return "busy", []
        except FileNotFoundError:
            return "busy", []
        entries = read_journal(fd)
        # an empty journal is a save that has not started replacing yet
        return ("stale" if entries else "absent"), entries
    finally:
        os.close(fd)


def _stale_message(paths: list[str], entries: list[dict[str, Any]]) -> str:
    kept = [f"{e['backup']!r} (old {e['path']!r})" for e in entries if e.get("backup")]
    where = "; ".join(kept) if kept else "nowhere (the files did not exist before)"
    return (
        f"the files {', '.join(repr(p) for p in paths)} may not belong together: the last "
        "save of them was interrupted after replacing some of them (the process was "
        f"killed). The previous versions are kept as: {where}. Save the image again (the "
        "next save first puts the previous versions back), or move those files back"
    )


def named_files(file_map: Mapping[str, Any]) -> list[str]:
    """The distinct file names of a file map (holders with a name and no object)."""
    names = []
    for holder in file_map.values():
        filename = getattr(holder, "filename", None)
        if filename and getattr(holder, "fileobj", None) is None:
            names.append(os.fspath(filename))
    return list(dict.fromkeys(names))


def load_settled(load: Callable[[], T], file_map: Mapping[str, Any]) -> T:
    """``load()``, retried until no save changed the file map's files meanwhile.

    Raises
    ------
    ImageFileError
        The files were left mixed by a save that was killed, or kept
        changing over every attempt.
    """
    paths = named_files(file_map)
    if not paths:
        return load()
    pause = PAUSE
    for attempt in range(ATTEMPTS):
        # the first attempt borrows what the load holds open (a retry opens afresh:
        # what detection opened may be an older version by then)
        held = [_borrow_or_hold(p, attempt == 0) for p in paths]
        try:
            before = [identity for _, identity in held]
            failure: VoxelioError | None = None
            try:
                result = load()
            except VoxelioError as err:
                failure = err  # a header and data of different saves may not fit
            state, entries = _journal_state(paths) if len(paths) > 1 else ("absent", [])
            if state == "stale":
                raise ImageFileError(_stale_message(paths, entries)) from failure
            if state == "absent" and [_identity(p) for p in paths] == before:
                if failure is not None:
                    raise failure
                return result
        finally:
            for fd, _ in held:
                if fd is not None:
                    os.close(fd)
        time.sleep(pause)
        pause *= 2
    raise ImageFileError(
        f"{', '.join(repr(p) for p in paths)} kept changing while being read (another "
        "process saving them over and over?): try again when it is done"
    )

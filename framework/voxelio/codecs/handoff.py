"""Handing an open compressed-file reader from the code that opened it to the next reader.

A load reads a header through one reader, then the image's proxy reads the
data, often from the same compressed file. Decompressing it twice is the
cost that a :class:`ReaderHandOff` saves: the loader
(``SpatialImage.from_file_map``) creates one, reading the header puts its
reader in it (``openfiles.reading(holder, what, hand_off)``, which calls
``codecs.opened(..., leave_open=hand_off)``) instead of closing it, and the
loader gives the same object to the proxy (``ArrayProxy(...,
hand_off=hand_off)``), whose first read takes the reader
(``codecs.opened(..., reuse=hand_off)``) with its index and whatever it
keeps decompressed.

Lifetime of the reader held:

- put in by the read that opened it, at its end;
- taken once, by a read of the same unchanged file (path, device, inode,
  size and modification time as when it was put in); a take for another
  file, or after the file changed, closes it instead;
- otherwise closed when the hand-off is closed or garbage-collected (with
  the proxy that holds it), when a newer hand-off starts holding a reader
  (at most ``MAX_HELD`` hand-offs hold one at a time, so loading many
  images keeps neither their files nor their decompressed bytes open), and
  at interpreter exit.
"""

from __future__ import annotations

# _thread, not threading: the locks are the same, and importing threading costs
# every process about a millisecond it may never need
import _thread
import os
import weakref
from typing import Any

from .._fileidentity import FileIdentity

#: hand-offs that may hold an open reader at the same time, process-wide
MAX_HELD = 1

_holders_lock = _thread.allocate_lock()
_holders: list[weakref.ref[ReaderHandOff]] = []  # oldest first
_atexit_registered = False


def file_key(path: Any) -> tuple[str, FileIdentity] | None:
    """What identifies one version of a named file: its path and its identity, or None."""
    try:
        return os.fspath(path), FileIdentity.of_stat(os.stat(path))
    except OSError:
        return None


class ReaderHandOff:
    """One open reader of a compressed file, passed from its opener to the next reader.

    Create one where a file is opened twice in a row (a loader reading a
    header, then a proxy reading the data), and pass it to both opens.
    Thread-safe.

    >>> hand_off = ReaderHandOff()
    >>> hand_off.holds
    False
    """

    def __init__(self) -> None:
        self._lock = _thread.allocate_lock()
        self._held: tuple[tuple[Any, ...], Any] | None = None  # (file key, reader)

    @property
    def holds(self) -> bool:
        """True while a reader waits here to be taken."""
        return self._held is not None

    def put(self, path: Any, reader: Any, identity: FileIdentity | None = None) -> None:
        """Keep ``reader`` (open on ``path``) for the next :meth:`take`; close any held before.

        ``identity`` is that of the file the reader has open, when the
        caller knows it (from the open descriptor, or a :meth:`take_identified`);
        otherwise the name is looked up now. A file that cannot be identified
        (gone, unreadable) is not kept: the reader is closed at once.
        """
        key = file_key(path) if identity is None else (os.fspath(path), identity)
        if key is None or reader.closed:
            reader.close()
            return
        with self._lock:
            previous, self._held = self._held, (key, reader)
        if previous is not None:
            previous[1].close()
        _make_room_for(self)

    def identity_of(self, path: Any) -> FileIdentity | None:
        """The identity ``path`` had when the reader held for it was put here, else None.

        A proxy takes it as the version of the file it must read: the one
        whose header the loader read.
        """
        held = self._held
        if held is None or held[0][0] != os.fspath(path):
            return None
        return held[0][1]

    def codec_of(self, path: Any) -> str | None:
        """The codec of the reader held for ``path`` ('gzip', ...), or None if none is held.

        Only compressed files' readers are ever held, so a proxy learns its
        file is compressed without opening it again.
        """
        held = self._held
        if held is None or held[0][0] != os.fspath(path):
            return None
        return held[1].codec

    def take(self, path: Any) -> Any | None:
        """The held reader if it reads ``path`` as it is now, else None; it is held no more."""
        taken = self.take_identified(path)
        return None if taken is None else taken[0]

    def take_identified(self, path: Any) -> tuple[Any, FileIdentity] | None:
        """:meth:`take`, with the identity of the file the reader reads (checked just now)."""
        with self._lock:
            held, self._held = self._held, None
        if held is None:
            return None
        key, reader = held
        if key != file_key(path) or reader.closed:
            reader.close()
            return None
        return reader, key[1]

    def close(self) -> None:
        """Close the held reader, if any."""
        with self._lock:
            held, self._held = self._held, None
        if held is not None:
            held[1].close()

    def __del__(self) -> None:
        # at collection (or interpreter shutdown) there is no one to report a failure to
        try:  # noqa: SIM105  (contextlib may already be torn down at shutdown)
            self.close()
        except Exception:
            pass

    def __getstate__(self) -> dict[str, Any]:
        return {}  # an open reader does not travel; the copy starts empty

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def __repr__(self) -> str:
        held = self._held
        what = f"holding a reader of {held[0][0]!r}" if held is not None else "empty"
        return f"<ReaderHandOff {what}>"


def _make_room_for(hand_off: ReaderHandOff) -> None:
    """Record ``hand_off`` as the newest holder; close readers beyond ``MAX_HELD``."""
    global _atexit_registered
    with _holders_lock:
        alive = [r for r in _holders if r() is not None and r() is not hand_off]
        alive.append(weakref.ref(hand_off))
        evicted = [r() for r in alive[:-MAX_HELD]] if len(alive) > MAX_HELD else []
        _holders[:] = alive[-MAX_HELD:]
        if not _atexit_registered:
            import atexit

            atexit.register(close_all)
            _atexit_registered = True
    for old in evicted:
        if old is not None:
            old.close()


def close_all() -> None:
    """Close every reader a hand-off holds (at exit)."""
    with _holders_lock:
        holders = [r() for r in _holders]
        _holders.clear()
    for hand_off in holders:
        if hand_off is not None:
            hand_off.close()


#: the hand-off ``codecs.opened(..., leave_open=True / reuse=True)`` uses
SHARED = ReaderHandOff()

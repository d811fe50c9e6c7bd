"""Opening an image's files: a holder's file for reading, a file map's files for safe writing.

Format plugins read and write through these two context managers, so that
every format gets the same behaviour: transparent compression chosen by
content on read and by name on write, file-like objects used in place of
names, and writes that replace their targets only once complete.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from . import codecs
from .codecs.detect import strip_compression
from .codecs.handoff import ReaderHandOff
from .errors import ImageFileError
from .filemaps import FileHolder

# ReaderHandOff is importable from here too (documented in voxelio.codecs.handoff)
__all__ = ["reading", "save_compression", "strip_compression", "writing"]


def save_compression(name: str, aliases: Mapping[str, str] | None = None) -> str | None:
    """The compression a save to ``name`` uses: a codec suffix, or a format's alias ('.mgz')."""
    found = codecs.compression_from_name(name)
    if found is not None:
        return found
    lower = name.lower()
    for suffix, codec in (aliases or {}).items():
        if lower.endswith(suffix.lower()):
            return codec
    return None


#: the hand-off of the load in progress (see :func:`load_hand_off`), or None
_LOAD_HAND_OFF: contextvars.ContextVar[ReaderHandOff | None] = contextvars.ContextVar(
    "voxelio_load_hand_off", default=None
)


@contextlib.contextmanager
def load_hand_off() -> Iterator[ReaderHandOff]:
    """A hand-off shared by every :func:`reading` of one load, closed at its end.

    ``voxelio.load`` opens a file to recognise its format, then the format's
    loader opens it again for the header: with this hand-off the second open
    takes the first one's reader (and what it keeps decompressed), so a small
    compressed file is opened once and its header inflated once.
    """
    hand_off = ReaderHandOff()
    token = _LOAD_HAND_OFF.set(hand_off)
    try:
        yield hand_off
    finally:
        _LOAD_HAND_OFF.reset(token)
        hand_off.close()


def current_load_hand_off() -> ReaderHandOff | None:
    """The hand-off of the load in progress on this thread, if any."""
    return _LOAD_HAND_OFF.get()


#: the file the load in progress reads, for messages raised without it
_LOADING_FILE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "voxelio_loading_file", default=None
)


@contextlib.contextmanager
def loading(name: str) -> Iterator[None]:
    """Within the block, :func:`current_file` is ``name``.

    A header's checks log what they find while the header is parsed from a
    stream that may not know its name; the log line should still say which
    file it is about. :func:`voxelio.load` sets the name for the time of the
    load (a context variable: threads and tasks each see their own).
    """
    token = _LOADING_FILE.set(name)
    try:
        yield
    finally:
        _LOADING_FILE.reset(token)


def current_file() -> str | None:
    """The file the load in progress reads, or None outside a load."""
    return _LOADING_FILE.get()


@contextlib.contextmanager
def reading(
    holder: FileHolder, what: str = "file", hand_off: ReaderHandOff | None = None
) -> Iterator[BinaryIO]:
    """Open a holder's file for reading, decompressing as its content says.

    Parameters
    ----------
    holder : FileHolder
    what : str
        What the file is, for error messages ('header file').
    hand_off : ReaderHandOff, optional
        A loader that reads a header here and then gives the same hand-off
        to the image's proxy (``ArrayProxy.from_holder(..., hand_off=...)``)
        has the file decompressed once: a compressed named file's reader is
        put into the hand-off at exit instead of being closed, and the
        proxy's first read takes it. Within ``voxelio.load`` the reader that
        recognised the format is taken first (:func:`load_hand_off`).

    Raises
    ------
    FileNotFoundError
        For a missing file.
    ImageFileError
        For a holder with neither name nor object.
    """
    if holder.fileobj is not None:
        # here, as every use of the stream wrappers: a file read by name needs none
        from ._streams import make_seekable

        make_seekable(holder)  # a pipe: what is read is kept, for going back
        fobj = holder.fileobj
        with contextlib.suppress(AttributeError, OSError):
            fobj.seek(holder.pos)
        with codecs.opened(fobj, "rb", compression="auto") as stream:
            yield stream
        return
    if holder.filename is None:
        raise ImageFileError(f"the {what} has neither a file name nor a file object")
    reuse = _LOAD_HAND_OFF.get()
    # a reader held for this name was opened a moment ago (taking it checks the
    # file is unchanged): only a name nothing holds needs looking up
    held = reuse is not None and reuse.identity_of(holder.filename) is not None
    if not held and not os.path.exists(holder.filename):
        raise FileNotFoundError(2, f"No such {what}", holder.filename)
    with codecs.opened(
        holder.filename, "rb", compression="auto", leave_open=hand_off or False,
        reuse=reuse or False,
    ) as stream:
        yield stream


@contextlib.contextmanager
def writing(
    file_map: Mapping[str, FileHolder],
    compression_aliases: Mapping[str, str] | None = None,
    **codec_options: Any,
) -> Iterator[dict[str, BinaryIO]]:
    """Open every file of a file map for writing; replace the targets at the end.

    Named files are written to temporary files beside them, compressed as
    their names say, and moved over the targets only when the block
    completes without error; file objects are written in place from their
    holder's ``pos``. ``codec_options`` (e.g. ``compresslevel``) go to the
    compressor.
    """
    names: dict[str, str] = {}
    for file_type, holder in file_map.items():
        if holder.fileobj is None:
            if not holder.filename:
                raise ImageFileError(f"no file name or file object for the {file_type!r} file")
            names[file_type] = holder.filename
    unique = list(dict.fromkeys(names.values()))
    from .writing import safe_replace  # here: a load never writes

    with safe_replace(*unique) as temps:
        temp_of = dict(zip(unique, temps, strict=False))
        with contextlib.ExitStack() as stack:
            files: dict[str, BinaryIO] = {}
            opened: dict[str, BinaryIO] = {}
            for file_type, name in names.items():
                if name not in opened:
                    codec = save_compression(name, compression_aliases)
                    opened[name] = stack.enter_context(
                        codecs.opened(
                            temp_of[name],
                            "wb",
                            compression=codec,
                            **_only_for(codec, codec_options),
                        )
                    )
                files[file_type] = opened[name]
            for file_type, holder in file_map.items():
                if holder.fileobj is not None:
                    files[file_type] = _from_pos(holder.fileobj, holder.pos)
            yield files


class _PositionedStream:
    """A writable stream whose offsets count from ``base`` of the wrapped one.

    Formats write as if their file started at offset 0; a file object whose
    holder has ``pos > 0`` then receives the image from ``pos`` on.
    """

    def __init__(self, raw: BinaryIO, base: int) -> None:
        self._raw = raw
        self._base = base
        raw.seek(base)

    def write(self, data: Any) -> int:
        return self._raw.write(data)

    def tell(self) -> int:
        return self._raw.tell() - self._base

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            offset += self._base
        return self._raw.seek(offset, whence) - self._base

    def flush(self) -> None:
        self._raw.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def _from_pos(fobj: BinaryIO, pos: int) -> BinaryIO:
    from ._streams import SequentialWriter, is_seekable

    if not is_seekable(fobj):
        # a pipe or socket: written front to back, from where it is now
        return SequentialWriter(fobj)  # type: ignore[return-value]
    if pos:
        return _PositionedStream(fobj, pos)  # type: ignore[return-value]
    with contextlib.suppress(AttributeError, OSError):
        fobj.seek(0)
    return fobj


def _only_for(codec: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """Codec options apply to compressed files only."""
    return dict(options) if codec is not None else {}


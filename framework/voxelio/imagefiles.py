"""The steps of reading and writing an image's files that every format shares.

:class:`~voxelio.image.SpatialImage` runs them around a format's own code,
as Pillow's ``ImageFile`` wraps each plugin's ``_open``: a format plugin
writes what its bytes look like (its header's ``from_fileobj`` and
``write_to``, what follows the header) and nothing else. Reading: find the
header's file in the file map, open it (decompressing as its content says),
parse the header, turn the operating system's errors into ImageFileError,
and put a lazy :class:`~voxelio.proxy.ArrayProxy` on the data the header
describes. Writing: check the file map names every file of the format, and
open every file for writing aside, replacing the targets only once the
format's code has written them all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from .errors import ImageFileError
from .filemaps import FileHolder
from .openfiles import ReaderHandOff, reading
from .proxy import ArrayProxy


def file_holder(file_map: Mapping[str, FileHolder], file_type: str, owner: str) -> FileHolder:
    """The holder of ``file_type``; ImageFileError naming what the map lacks.

    ``owner`` names the image class in the message.
    """
    try:
        return file_map[file_type]
    except KeyError:
        raise ImageFileError(
            f"a {owner} file map needs an {file_type!r} entry; got {sorted(file_map)}"
        ) from None


def header_file_type(files_types: tuple[tuple[str, str | None], ...]) -> str:
    """The file type whose file holds the header: 'header' if there is one, else the first."""
    names = [name for name, _ in files_types]
    return "header" if "header" in names else names[0]


def read_header(
    holder: FileHolder, parse: Any, file_type: str, *, hand_off: ReaderHandOff | None = None
) -> Any:
    """``parse(stream)`` on the holder's (decompressed) file, at the holder's ``pos``.

    A file object is put back at ``pos`` afterwards, where the data proxy
    expects to find the image on its first read. A compressed named file's
    reader is put into ``hand_off`` (if given) for the data proxy, instead
    of being closed.

    Raises
    ------
    ImageFileError
        When the file does not exist or cannot be read (the OS error's
        message included).
    """
    what = f"{file_type} file"
    try:
        with reading(holder, what, hand_off) as stream:
            header = parse(stream)
    except FileNotFoundError:
        raise ImageFileError(f"{what} {holder.filename!r} does not exist") from None
    except OSError as err:
        raise ImageFileError(f"cannot read {what} {holder.filename!r}: {err}") from None
    if holder.fileobj is not None:
        with contextlib.suppress(AttributeError, OSError):
            holder.fileobj.seek(holder.pos)
    return header


def data_proxy(
    holder: FileHolder,
    header: Any,
    *,
    mmap: bool | str,
    keep_file_open: bool | None,
    hand_off: ReaderHandOff | None = None,
) -> ArrayProxy:
    """A lazy proxy on the data ``header`` describes, in the holder's file.

    The header gives shape, stored dtype, ``data_start()`` if it has one,
    else ``get_data_offset()`` (from the start of the image in the holder),
    and ``get_slope_inter()`` (None for no scaling). The proxy's first read
    takes the reader ``hand_off`` holds, when it reads this same file.

    Raises
    ------
    ImageFileError
        Now, not at the first data read, when the named data file does not
        exist or is plainly shorter than the data (the size noted by the
        proxy's one stat; a compressed file is not inflated to check).
    """
    slope, inter = header.get_slope_inter()
    # a header whose offset may be "not set" (NIfTI-1's 0) says where its data start
    start = header.data_start() if hasattr(header, "data_start") else header.get_data_offset()
    proxy = ArrayProxy.from_holder(
        holder,
        header.get_data_shape(),
        header.get_data_dtype(),
        start,
        slope,
        inter,
        mmap=mmap,
        order=getattr(header, "data_layout", "F"),
        keep_file_open=keep_file_open,
        hand_off=hand_off,
    )
    proxy._refuse_missing_or_short()
    return proxy


def file_map_to_write(
    file_map: Mapping[str, FileHolder], files_types: tuple[tuple[str, str | None], ...], owner: str
) -> dict[str, FileHolder]:
    """The holders of the format's file types (every one must be in ``file_map``)."""
    return {name: file_holder(file_map, name, owner) for name, _ in files_types}

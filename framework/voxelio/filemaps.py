"""Where an image lives: file holders, file names and file maps.

An image is stored in one or more files, each of a *file type* ('image',
'header', ...) that its class lists in ``files_types`` with the extension
that file type carries. A *file map* maps each file type to a
:class:`FileHolder`: a file name, or an open file-like object plus the
position the image starts at. This module turns a file name ("filespec")
into a file map, preserving case and compression suffixes, so that
``brain.HDR.gz`` pairs with ``brain.IMG.gz``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from .codecs.detect import split_compression
from .errors import ImageFileError

__all__ = [
    "FileHolder",
    "FileMap",
    "FilesTypes",
    "filespec_to_file_map",
    "is_file_like",
    "make_file_map",
    "split_compression",
    "split_filespec",
]

FilesTypes = Sequence[tuple[str, "str | None"]]
FileMap = dict[str, "FileHolder"]


class FileHolder:
    """A file name or an open file-like object, with a start position.

    Parameters
    ----------
    filename : str or os.PathLike, optional
        Name of the file on disk.
    fileobj : file-like, optional
        An open binary file-like object; used in preference to ``filename``.
    pos : int, optional
        Offset in ``fileobj`` where the stored image starts.
    """

    def __init__(
        self,
        filename: str | os.PathLike | None = None,
        fileobj: BinaryIO | None = None,
        pos: int = 0,
    ) -> None:
        self.filename = None if filename is None else os.fspath(filename)
        self.fileobj = fileobj
        self.pos = int(pos)

    @property
    def file_like(self) -> str | BinaryIO | None:
        """The file object if there is one, else the file name."""
        return self.fileobj if self.fileobj is not None else self.filename

    def same_file_as(self, other: FileHolder) -> bool:
        """True when both holders point at the same name and the same object."""
        return self.filename == other.filename and self.fileobj is other.fileobj

    def copy(self) -> FileHolder:
        """A new holder pointing at the same file (the file object is shared)."""
        return FileHolder(self.filename, self.fileobj, self.pos)

    def __repr__(self) -> str:
        return f"FileHolder(filename={self.filename!r}, fileobj={self.fileobj!r}, pos={self.pos})"


def split_filespec(filename: str, compressed_suffixes: Sequence[str] = ()) -> tuple[str, str, str]:
    """Split a name into stem, extension and compression suffix.

    >>> split_filespec('sub-01/T1w.nii.gz', ('.gz',))
    ('sub-01/T1w', '.nii', '.gz')
    """
    base, csuffix = split_compression(filename, compressed_suffixes)
    stem, ext = os.path.splitext(base)
    return stem, ext, csuffix


def _matching_ext(ext: str, candidates: Sequence[str]) -> str | None:
    for candidate in candidates:
        if candidate and ext.lower() == candidate.lower():
            return candidate
    return None


def _same_case(template: str, ext: str) -> str:
    """``ext`` in the case of ``template`` (upper if the template is all upper)."""
    return ext.upper() if template.isupper() else ext.lower()


def filespec_to_file_map(
    filespec: str | os.PathLike,
    files_types: FilesTypes,
    valid_exts: Sequence[str] = (),
    compressed_suffixes: Sequence[str] = (),
) -> FileMap:
    """Build a file map of file names from one name.

    Parameters
    ----------
    filespec : str or os.PathLike
        A name of any of the image's files (e.g. the header or the image of
        a pair), with or without a compression suffix.
    files_types : sequence of (file_type, extension)
        The class's file types; an extension of None accepts any name (for
        single-file formats without a fixed extension).
    valid_exts : sequence of str
        Extensions that name a whole single-file image (aliases such as
        '.mgz' besides '.mgh'); defaults to the files_types extensions.
    compressed_suffixes : sequence of str
        Suffixes allowed after the extension ('.gz', '.bz2', '.zst').

    Raises
    ------
    ImageFileError
        If the name does not end in an extension of this class.
    """
    filename = os.fspath(filespec)
    if not isinstance(filename, str):
        raise ImageFileError(f"file names must be text, not {type(filename).__name__}")
    filename = os.path.expanduser(filename)  # "~/x.nii", as shells and NiBabel read it
    stem, ext, csuffix = split_filespec(filename, compressed_suffixes)
    type_exts = [e for _, e in files_types if e]
    if len(files_types) == 1:
        (file_type, type_ext) = files_types[0]
        allowed = list(valid_exts) or ([type_ext] if type_ext else [])
        if type_ext is None or _matching_ext(ext, allowed):
            return {file_type: FileHolder(filename)}
        raise ImageFileError(_bad_ext_message(filename, allowed, compressed_suffixes))
    if not _matching_ext(ext, type_exts):
        raise ImageFileError(_bad_ext_message(filename, type_exts, compressed_suffixes))
    file_map: FileMap = {}
    for file_type, type_ext in files_types:
        if type_ext is None:
            raise ImageFileError(f"file type {file_type!r} has no extension to derive its name")
        file_map[file_type] = FileHolder(stem + _same_case(ext, type_ext) + csuffix)
    return file_map


def _bad_ext_message(filename: str, exts: Sequence[str], compressed: Sequence[str]) -> str:
    shown = ", ".join(exts) or "(none)"
    extra = f" (optionally followed by {', '.join(compressed)})" if compressed else ""
    return f"{filename!r} does not end in one of {shown}{extra}"


def make_file_map(files_types: FilesTypes, mapping: Mapping[str, Any] | None = None) -> FileMap:
    """A file map with a holder per file type, filled from ``mapping``.

    ``mapping`` values may be file names, path-likes or file-like objects.
    """
    mapping = dict(mapping or {})
    file_map: FileMap = {}
    for file_type, _ in files_types:
        value = mapping.pop(file_type, None)
        if value is None:
            file_map[file_type] = FileHolder()
        elif isinstance(value, FileHolder):
            file_map[file_type] = value
        elif isinstance(value, (str, os.PathLike)):
            file_map[file_type] = FileHolder(filename=value)
        else:
            file_map[file_type] = FileHolder(fileobj=value)
    if mapping:
        raise ImageFileError(
            f"unknown file types {sorted(mapping)}; expected {[t for t, _ in files_types]}"
        )
    return file_map


def is_file_like(obj: Any) -> bool:
    """True for objects with ``read`` or ``write`` (not names)."""
    return hasattr(obj, "read") or hasattr(obj, "write")

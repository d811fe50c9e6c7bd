"""How an image saves itself and gives its bytes: :class:`~voxelio.image.SpatialImage`'s
``to_file_map``, ``to_filename``, ``to_bytes``, ``from_bytes`` and their helpers.

Methods of :class:`~voxelio.image.SpatialImage` written here as functions and
placed in the class on first use (:class:`voxelio._lazy.LazyMember`): a
process that only loads images never imports this module.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Mapping
from typing import Any

from . import imagefiles as _imagefiles
from .errors import ConversionWarning, ImageFileError
from .filemaps import FileHolder
from .header import Header
from .image import SAVE_OPTIONS, SpatialImage

_ZIP_MAGIC = b"PK\x03\x04"


def to_file_map(
    self, file_map: Mapping[str, FileHolder] | None = None, dtype: Any = None, **options: Any
) -> None:
    """Write the image to a file map (default: its own).

    The steps every format shares: check that the map names every file
    of the format, make the header agree with data and affine, copy it
    and set ``dtype`` on the copy, let the format plan the stored
    values (:meth:`_plan_storage`) before any file is opened, then open
    every file for writing (compressed as its name says, written aside
    and moved over the target only when complete) and let the format
    write them (:meth:`_write_files`). The image's file map then points
    at the files written.

    Parameters
    ----------
    file_map : mapping, optional
        Where to write; defaults to the image's own ``file_map``.
    dtype : dtype-like, optional
        On-disk data type for this write; defaults to the header's.
    **options
        Compressor options such as ``compresslevel``.

    Raises
    ------
    ImageFileError
        If the file map lacks one of the format's files.
    HeaderDataError
        If the format cannot store ``dtype``.
    WriterError
        If the data cannot be stored as planned (values out of range).
    NotImplementedError
        For a class that does not write files.
    """
    if type(self)._write_files is SpatialImage._write_files:
        raise NotImplementedError(f"{type(self).__name__} cannot write files")
    source = self.file_map if file_map is None else file_map
    targets = _imagefiles.file_map_to_write(source, self.files_types, type(self).__name__)
    _check_save_options(options, targets)
    self.update_header()
    self._warn_affine_not_kept()
    header = self._header.copy()
    if dtype is not None:
        header.set_data_dtype(dtype)
    plan = self._plan_storage(header)
    from .openfiles import writing

    with writing(targets, self.compression_aliases, **options) as files:
        self._write_files(files, header, plan)
    self.file_map = targets


def _warn_affine_not_kept(self) -> None:
    """ConversionWarning when the format stores less of the affine than the image has.

    Not again for a loss :meth:`from_image` already reported.
    """
    lost = [loss for loss in self._affine_losses() if loss not in self.conversion_report]
    if lost:
        warnings.warn(
            ConversionWarning(
                f"{type(self).__name__} cannot keep: {'; '.join(lost)} (the file will "
                "give back the affine the format can store)",
                lost,
            ),
            stacklevel=3,
        )


def _plan_storage(self, header: Header) -> Any:
    """How the data will be stored in ``header``'s dtype (before any file opens).

    The default scales only as ``can_store_slope`` and
    ``can_store_intercept`` allow; a format that stores the scaling
    records it in ``header`` here.
    """
    from .writing import plan_storage

    return plan_storage(
        self.data_for_write(), header.get_data_dtype(),
        can_slope=self.can_store_slope, can_inter=self.can_store_intercept,
    )


def to_filename(self, filename: str | os.PathLike, **options: Any) -> None:
    """Write the image to the file(s) implied by ``filename``.

    ``options`` go to :meth:`to_file_map` (``dtype``, ``compresslevel``...).
    The image's file map then points at the new files.
    """
    file_map = self.filespec_to_file_map(filename)
    self.to_file_map(file_map, **options)
    self.file_map = file_map


@classmethod
def instance_to_filename(cls, img: Any, filename: str | os.PathLike, **options: Any) -> None:
    """Save any image in this class's format under ``filename``."""
    cls.from_image(img).to_filename(filename, **options)


def to_bytes(self, **options: Any) -> bytes:
    """The image as the bytes of its file.

    A format stored in one file gives exactly that file's bytes. A
    format stored in several files (header + image pairs) gives an
    uncompressed ZIP archive holding one member per file type, named
    ``image`` plus the file type's extension (``image.hdr``,
    ``image.img``): unzipped, it is a valid file set.
    """
    file_map = {ft: FileHolder(fileobj=io.BytesIO()) for ft, _ in self.files_types}
    self.to_file_map(file_map, **options)
    if len(self.files_types) == 1:
        return file_map[self.files_types[0][0]].fileobj.getvalue()
    from ._archive import pack_members

    return pack_members({
        f"image{ext or '.' + file_type}": file_map[file_type].fileobj.getvalue()
        for file_type, ext in self.files_types
    })


@classmethod
def from_bytes(cls, bytestring: bytes, **kwargs: Any) -> SpatialImage:
    """An image from bytes made by :meth:`to_bytes` (loaded fully into memory).

    Raises
    ------
    ImageFileError
        For a multi-file format, when the bytes are not a readable ZIP
        archive with exactly one member per file type (found by
        extension; other members are ignored).
    """
    data = bytes(bytestring)
    if len(cls.files_types) == 1:
        file_map = {cls.files_types[0][0]: FileHolder(fileobj=io.BytesIO(data))}
        return cls.from_file_map(file_map, **kwargs)
    if not data.startswith(_ZIP_MAGIC):
        raise ImageFileError(
            f"{cls.__name__} bytes must be the ZIP archive to_bytes() makes "
            f"(one member per file type: {[t for t, _ in cls.files_types]})"
        )
    wanted = {file_type: ext or "." + file_type for file_type, ext in cls.files_types}
    from ._archive import unpack_members

    members = unpack_members(data, wanted, cls.__name__)
    file_map = {t: FileHolder(fileobj=io.BytesIO(content)) for t, content in members.items()}
    return cls.from_file_map(file_map, **kwargs)


def _check_save_options(options: Mapping[str, Any], targets: Mapping[str, Any]) -> None:
    """Refuse unknown save options, naming the target and the options that exist."""
    unknown = sorted(set(options) - set(SAVE_OPTIONS))
    if unknown:
        names = [getattr(h, "filename", None) or "a file object" for h in targets.values()]
        raise TypeError(
            f"cannot save {', '.join(str(n) for n in names)}: unknown save option"
            f"{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"valid options: dtype, {', '.join(SAVE_OPTIONS)}"
        )

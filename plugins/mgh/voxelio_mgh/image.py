"""FreeSurfer MGH images: ``.mgh`` (uncompressed, read lazily) and ``.mgz`` (gzip).

The data sit at byte 284 in Fortran order, big-endian, unscaled; the
footer and FreeSurfer's tags follow them (see :mod:`voxelio_mgh.header`
and :mod:`voxelio_mgh.tags`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from voxelio.plugin import (
    FileHolder,
    HeaderDataError,
    ImageFileError,
    ReaderHandOff,
    SpatialImage,
    is_proxy,
)

from . import _layout
from .header import MGHHeader


class MGHImage(SpatialImage):
    """A FreeSurfer MGH/MGZ image (up to 4-D: x, y, z, frames).

    Data of fewer than 3 dimensions are given trailing axes of length 1,
    as FreeSurfer stores them. The affine is the header's vox2ras; an image
    made with ``affine=None`` gets the header's (default) geometry when
    written. MGH stores no scaling: values that do not fit the stored dtype
    raise WriterError on save rather than being clipped or rounded; a name
    ending in ``.mgz`` (any case) is written gzip-compressed.
    """

    header_class = MGHHeader
    files_types = _layout.FILES_TYPES
    valid_exts = _layout.VALID_EXTS
    compressed_suffixes = _layout.COMPRESSED_SUFFIXES
    compression_aliases = _layout.COMPRESSION_ALIASES
    rw = True

    def __init__(
        self,
        dataobj: Any,
        affine: Any,
        header: Any = None,
        extra: Mapping[str, Any] | None = None,
        file_map: Mapping[str, FileHolder] | None = None,
    ) -> None:
        if not hasattr(dataobj, "shape"):
            dataobj = np.asanyarray(dataobj)
        if len(dataobj.shape) < 3:
            if is_proxy(dataobj):
                dataobj = np.asanyarray(dataobj)
            dataobj = np.reshape(dataobj, tuple(dataobj.shape) + (1,) * (3 - len(dataobj.shape)))
        super().__init__(dataobj, affine, header, extra, file_map)

    def _affine2header(self) -> None:
        # An affine the header already gives is left alone: recomputing the
        # fields from it would change a header whose direction vectors are
        # not unit length (NiBabel's test.mgz) and break byte-exact re-saves.
        if np.array_equal(self.affine, self.header.get_vox2ras()):
            return
        self.header.set_affine(self.affine, self.shape[:3])

    # -- reading: the framework's steps, with MGH's error message --------------------
    @classmethod
    def _read_header(
        cls, file_map: Mapping[str, FileHolder], hand_off: ReaderHandOff | None = None
    ) -> MGHHeader:
        """The header, footer and tags; an invalid header is not an MGH file.

        Raises
        ------
        ImageFileError
            When the file is not a valid MGH file or is shorter than its
            header says.
        """
        try:
            return super()._read_header(file_map, hand_off)
        except HeaderDataError as err:
            where = file_map["image"].filename or "MGH stream"
            raise ImageFileError(f"{where!r} is not a valid MGH file: {err}") from None

    # -- writing: header, data, then footer and tags after the data ------------------
    def _write_files(self, files: Mapping[str, Any], header: MGHHeader, plan: Any) -> None:
        stream = files["image"]
        header.write_to(stream)
        plan.write(stream, header.get_data_dtype(), offset=None)
        header.writeftr_to(stream)

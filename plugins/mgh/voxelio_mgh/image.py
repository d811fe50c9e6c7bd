"""FreeSurfer MGH images: ``.mgh`` (uncompressed, memory-mappable) and ``.mgz`` (gzip).

The data sit at byte 284 in Fortran order, big-endian, unscaled; the
footer and FreeSurfer's tags follow them (see :mod:`voxelio_mgh.header`
and :mod:`voxelio_mgh.tags`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from voxelio.errors import HeaderDataError, ImageFileError
from voxelio.filemaps import FileHolder
from voxelio.image import SpatialImage
from voxelio.openfiles import reading, writing
from voxelio.proxy import ArrayProxy, is_proxy
from voxelio.writing import plan_storage

from . import _layout
from .header import DATA_OFFSET, MGHHeader


class MGHImage(SpatialImage):
    """A FreeSurfer MGH/MGZ image (up to 4-D: x, y, z, frames).

    Data of fewer than 3 dimensions are given trailing axes of length 1,
    as FreeSurfer stores them. The affine is the header's vox2ras; an image
    made with ``affine=None`` gets the header's (default) geometry when
    written.
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

    # -- reading ---------------------------------------------------------------------
    @classmethod
    def from_file_map(
        cls,
        file_map: Mapping[str, FileHolder],
        *,
        mmap: bool | str = True,
        keep_file_open: bool | None = None,
    ) -> MGHImage:
        """Read an MGH/MGZ image; the data stay on disk behind an ArrayProxy.

        Raises
        ------
        ImageFileError
            When the file is not a valid MGH file or is shorter than its
            header says.
        """
        holder = file_map["image"]
        where = holder.filename or "MGH stream"
        with reading(holder, "MGH file") as stream:
            base = _tell(stream)
            try:
                header = MGHHeader.from_fileobj(stream)
            except HeaderDataError as err:
                raise ImageFileError(f"{where!r} is not a valid MGH file: {err}") from None
        if holder.fileobj is not None:
            # the proxy opens a file object where it stands on its first read
            holder.fileobj.seek(holder.pos)
        spec = (header.get_data_shape(), header.get_data_dtype(), base + DATA_OFFSET, 1.0, 0.0)
        proxy = ArrayProxy(holder.file_like, spec, mmap=mmap, keep_file_open=keep_file_open)
        img = cls(proxy, header.get_vox2ras(), header, file_map=file_map)
        return img

    # -- writing ---------------------------------------------------------------------
    def to_file_map(
        self, file_map: Mapping[str, FileHolder] | None = None, dtype: Any = None, **options: Any
    ) -> None:
        """Write header, data, footer and tags.

        Parameters
        ----------
        file_map : mapping, optional
            Where to write (default: the image's own file map). A name
            ending in ``.mgz`` (any case) is gzip-compressed.
        dtype : dtype-like, optional
            Stored dtype (uint8, int16, uint16, int32, float32); default the
            header's. MGH stores no scaling: values that do not fit raise
            WriterError rather than being clipped or rounded.
        **options
            Compression options such as ``compresslevel``.
        """
        file_map = self.file_map if file_map is None else file_map
        if "image" not in file_map:
            raise ImageFileError("an MGH image is written to one 'image' file")
        self.update_header()
        header = self.header.copy()
        if dtype is not None:
            header.set_data_dtype(dtype)
        out_dtype = header.get_data_dtype()
        plan = plan_storage(self.data_for_write(), out_dtype, can_slope=False, can_inter=False)
        with writing(file_map, self.compression_aliases, **options) as files:
            stream = files["image"]
            header.write_to(stream)
            plan.write(stream, out_dtype, offset=None)
            header.writeftr_to(stream)


def _tell(stream: Any) -> int:
    try:
        return int(stream.tell())
    except (OSError, AttributeError, ValueError):
        return 0

"""The Analyze 7.5 image: a ``.hdr`` header file and a ``.img`` data file.

:class:`AnalyzeImage` reads the header eagerly and the data lazily (an
:class:`~voxelio.proxy.ArrayProxy` on the image file), so a header whose
image file is missing still loads; reading its data then raises
ImageFileError naming the missing file. Both files may be compressed
(``x.hdr.gz`` + ``x.img.gz``, also ``.bz2`` and ``.zst``).

Subclasses (the NIfTI-1 pair) change class attributes: ``header_class``,
``can_store_intercept``, and override :meth:`_affine2header` and
:meth:`_prepare_header` for their own geometry and scaling fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from voxelio.errors import HeaderDataError, ImageFileError, WriterError
from voxelio.filemaps import FileHolder
from voxelio.image import SpatialImage
from voxelio.openfiles import reading, writing
from voxelio.proxy import ArrayProxy
from voxelio.writing import StoragePlan, plan_storage

from . import _layout
from .header import AnalyzeHeader


class AnalyzeImage(SpatialImage):
    """An Analyze 7.5 image (header ``.hdr`` + data ``.img``).

    The affine is the SPM origin affine when the header's ``origin`` is
    set and sensible, else the volume centred on world 0; the first axis
    is always flipped (radiological). Analyze stores no rotations: saving
    keeps the voxel sizes and the origin (the voxel at world 0) only.
    """

    header_class: ClassVar[type[AnalyzeHeader]] = AnalyzeHeader
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = _layout.FILES_TYPES
    valid_exts: ClassVar[tuple[str, ...]] = _layout.EXTENSIONS
    rw: ClassVar[bool] = True
    #: plain Analyze has no intercept field (SPM2's ``funused2`` is read, never written)
    can_store_intercept: ClassVar[bool] = False

    header: AnalyzeHeader

    # -- reading -----------------------------------------------------------------
    @classmethod
    def from_file_map(
        cls,
        file_map: Mapping[str, FileHolder],
        *,
        mmap: bool | str = True,
        keep_file_open: bool | None = None,
    ) -> AnalyzeImage:
        """Read the header now and make a lazy proxy on the image file.

        Raises
        ------
        ImageFileError
            If the header file is missing or unreadable.
        HeaderDataError
            If the header is truncated or has a serious problem.
        """
        header = cls._read_header(file_map)
        image = _holder(file_map, "image")
        slope, inter = header.get_slope_inter()
        proxy = ArrayProxy.from_holder(
            image, header.get_data_shape(), header.get_data_dtype(), header.get_data_offset(),
            slope, inter, mmap=mmap, keep_file_open=keep_file_open,
        )
        img = cls(proxy, header.get_best_affine(), header, file_map=file_map)
        return img

    @classmethod
    def _read_header(cls, file_map: Mapping[str, FileHolder]) -> AnalyzeHeader:
        holder = _holder(file_map, "header")
        try:
            with reading(holder, "header file") as stream:
                return cls.header_class.from_fileobj(stream)
        except FileNotFoundError:
            raise ImageFileError(f"header file {holder.filename!r} does not exist") from None
        except OSError as err:
            raise ImageFileError(f"cannot read header file {holder.filename!r}: {err}") from None

    # -- header harmonisation ---------------------------------------------------------
    def _affine2header(self) -> None:
        """Store voxel sizes, and the SPM origin, from the affine."""
        super()._affine2header()
        self.header.set_origin_from_affine(self.affine)

    # -- writing ----------------------------------------------------------------------
    def to_file_map(
        self, file_map: Mapping[str, FileHolder] | None = None, dtype: Any = None, **options: Any
    ) -> None:
        """Write header and image files.

        Parameters
        ----------
        file_map : mapping, optional
            Where to write; defaults to the image's own ``file_map``.
        dtype : dtype-like, optional
            On-disk data type; defaults to the header's.
        **options
            Compressor options such as ``compresslevel``.

        Raises
        ------
        HeaderDataError
            If this format cannot store ``dtype`` (the message lists the
            dtypes it can).
        WriterError
            If the data cannot be stored in the data type without clipping,
            or would need an intercept, which Analyze cannot store.
        """
        file_map = self.file_map if file_map is None else file_map
        for file_type, _ in self.files_types:
            _holder(file_map, file_type)
        self.update_header()
        header = self.header.copy()
        if dtype is not None:
            header.set_data_dtype(dtype)
        out_dtype = header.get_data_dtype()
        plan = self._plan(out_dtype)
        self._prepare_header(header, plan)
        offset = header.get_data_offset()  # openfiles.writing counts from the holder's pos
        file_map = {t: file_map[t] for t, _ in self.files_types}
        # a pair writes the header to its own file; a single-file subclass before the data
        header_type = "header" if "header" in file_map else "image"
        with writing(file_map, self.compression_aliases, **options) as files:
            header.write_to(files[header_type])
            plan.write(files["image"], out_dtype, offset=offset)
        self.file_map = dict(file_map)

    def _plan(self, out_dtype: np.dtype) -> StoragePlan:
        try:
            return plan_storage(
                self.data_for_write(), out_dtype, can_slope=True,
                can_inter=self.can_store_intercept,
            )
        except WriterError as err:
            if self.can_store_intercept:
                raise
            raise WriterError(
                f"{err} (Analyze stores a scale factor but no intercept; save as "
                "float32/float64, or use a format with an intercept such as NIfTI-1)"
            ) from None

    def _prepare_header(self, header: AnalyzeHeader, plan: StoragePlan) -> None:
        """Record the plan's scaling and the data offset in the header to write."""
        try:
            header.set_slope_inter(plan.slope, plan.inter)
        except HeaderDataError as err:
            raise WriterError(f"cannot record the scaling of the data: {err}") from None
        header.set_data_offset(0)


def _holder(file_map: Mapping[str, FileHolder], file_type: str) -> FileHolder:
    try:
        return file_map[file_type]
    except KeyError:
        raise ImageFileError(
            f"an Analyze file map needs an {file_type!r} entry; got {sorted(file_map)}"
        ) from None

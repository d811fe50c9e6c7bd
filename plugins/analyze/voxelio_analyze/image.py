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
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from voxelio.plugin import (
    FileHolder,
    HeaderDataError,
    SpatialImage,
    WriterError,
)

from . import _layout
from .header import AnalyzeHeader

if TYPE_CHECKING:  # saves import it when they plan (voxelio.writing)
    from voxelio.plugin import StoragePlan


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
    can_store_slope: ClassVar[bool] = True
    #: plain Analyze has no intercept field (SPM2's ``funused2`` is read, never written)
    can_store_intercept: ClassVar[bool] = False

    header: AnalyzeHeader

    def __init__(
        self,
        dataobj: Any,
        affine: Any,
        header: Any = None,
        extra: Mapping[str, Any] | None = None,
        file_map: Mapping[str, FileHolder] | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(dataobj, affine, header, extra, file_map)
        # where the data were stored belongs to the proxy (dataobj.offset), not
        # to the image: a save puts them where the header then says
        self._header.set_data_offset(0)
        if dtype is not None:
            self.set_data_dtype(dtype)

    # reading is the framework's: the header from the 'header' file, a lazy
    # proxy on the 'image' file at the header's offset with its scaling

    # -- header harmonisation ---------------------------------------------------------
    def _affine2header(self) -> None:
        """Store voxel sizes, and the SPM origin, from the affine."""
        super()._affine2header()
        self.header.set_origin_from_affine(self.affine)

    # -- writing ----------------------------------------------------------------------
    def _plan_storage(self, header: AnalyzeHeader) -> StoragePlan:
        """Choose the scaling; record it and the data offset in the header to write.

        Raises
        ------
        WriterError
            If the data cannot be stored in the data type without clipping,
            or would need an intercept, which Analyze cannot store.
        """
        plan = self._plan(header.get_data_dtype())
        self._prepare_header(header, plan)
        return plan

    def _write_files(
        self, files: Mapping[str, Any], header: AnalyzeHeader, plan: StoragePlan
    ) -> None:
        # a pair writes the header to its own file; a single-file subclass before the data
        header.write_to(files["header" if "header" in files else "image"])
        # the offset counts from the holder's pos, as openfiles.writing's streams do
        plan.write(files["image"], header.get_data_dtype(), offset=header.get_data_offset())

    def _plan(self, out_dtype: np.dtype) -> StoragePlan:
        # here, not at module level: only saves need voxelio's writing code
        from voxelio.plugin import plan_storage

        try:
            return plan_storage(
                self.data_for_write(), out_dtype, can_slope=self.can_store_slope,
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
        """Record the plan's scaling in the header to write (the data go at its offset)."""
        try:
            header.set_slope_inter(plan.slope, plan.inter)
        except HeaderDataError as err:
            raise WriterError(f"cannot record the scaling of the data: {err}") from None


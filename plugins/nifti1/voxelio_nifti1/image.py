"""NIfTI-1 images: the ``.hdr``/``.img`` pair and the single ``.nii`` file.

:class:`Nifti1Pair` extends :class:`voxelio_analyze.image.AnalyzeImage`
(lazy proxy reading, the write flow); :class:`Nifti1Image` keeps header,
extensions and data in one file. Both may be compressed (``.gz``, ``.bz2``,
``.zst``): an uncompressed ``.nii`` is memory-mapped by default, a
compressed one read lazily through its decompressor.

Header fields that describe where and how the data were stored
(``vox_offset``, ``scl_slope``, ``scl_inter``) are consumed on load: the
proxy (``img.dataobj.offset/.slope/.inter``) keeps them and the image's
header shows "unset" (0 and NaN), as in NiBabel. On save they are
computed afresh: the data offset after the extensions, and integer
scaling chosen to lose least precision (an unchanged proxy keeps its own
values and scaling, so saving twice does not drift). Scaling set
explicitly with ``img.header.set_slope_inter`` is stored as given, and
the data written without rescaling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from voxelio.plugin import (
    FileHolder,
    HeaderDataError,
    ImageFileError,
)
from voxelio_analyze.image import AnalyzeImage

from . import _layout
from .header import Nifti1Header, Nifti1PairHeader

if TYPE_CHECKING:  # saves import it when they plan (voxelio.writing)
    from voxelio.plugin import StoragePlan

_INT64 = (np.dtype(np.int64), np.dtype(np.uint64))
_DTYPE_ALIASES = ("compat", "smallest")


class Int64DataError(HeaderDataError, ValueError):
    """int64 data given without saying that int64 is wanted on disk."""


class AliasDataError(HeaderDataError, ValueError):
    """No data type honours the 'compat' or 'smallest' alias for these data."""


class Nifti1Pair(AnalyzeImage):
    """A NIfTI-1 image stored as a header (``.hdr``) and a data (``.img``) file.

    Parameters
    ----------
    dataobj, affine, header, extra, file_map
        As for :class:`voxelio.image.SpatialImage`.
    dtype : dtype-like or str, optional
        On-disk data type. Besides numpy dtypes: ``'mask'`` (uint8),
        ``'smallest'`` (the smallest of uint8/int16/int32 holding the
        integer data) and ``'compat'`` (like 'smallest' for integers,
        float32 for floats), resolved when saving.

    Raises
    ------
    Int64DataError
        For int64/uint64 data with neither ``header`` nor ``dtype``: many
        tools cannot read 64-bit integer NIfTI files, so voxelio asks you
        to choose (``dtype=np.int64`` to keep them, ``'compat'`` to store
        the smallest type that holds the values).
    """

    header_class: ClassVar[type[Nifti1Header]] = Nifti1PairHeader
    can_store_intercept: ClassVar[bool] = True

    header: Nifti1Header

    def __init__(
        self,
        dataobj: Any,
        affine: Any,
        header: Any = None,
        extra: Mapping[str, Any] | None = None,
        file_map: Mapping[str, FileHolder] | None = None,
        dtype: Any = None,
    ) -> None:
        data_dtype = getattr(dataobj, "dtype", None)
        unsized = header is None and dtype is None and data_dtype is not None
        if unsized and np.dtype(data_dtype).newbyteorder("=") in _INT64:
            label = self.header_class.format_label
            raise Int64DataError(
                f"the data have type {np.dtype(data_dtype)}, which many tools cannot read "
                f"from {label} files. Say what to store: {type(self).__name__}(data, "
                "affine, dtype=np.int64) keeps 64-bit integers, dtype='compat' stores the "
                "smallest integer type that holds the values, or convert with "
                "data.astype(np.int32)"
            )
        self._dtype_alias: str | None = None
        super().__init__(dataobj, affine, header, extra, file_map, dtype)
        # how the data were stored belongs to the proxy, not to the image
        self._header.set_slope_inter(None, None)
        if header is None and self._affine is not None:
            # a new header stores the affine given, even the default one, so
            # that the file says where it is (sform 'aligned')
            self._header.set_sform(self._affine, code="aligned")
            self._header.set_qform(self._affine, code="unknown")

    # -- data type with aliases ----------------------------------------------------------
    def set_data_dtype(self, dtype: Any) -> None:
        """Set the on-disk data type (numpy dtype, label, code, or 'compat'/'smallest')."""
        if isinstance(dtype, str) and dtype.lower() in _DTYPE_ALIASES:
            self._dtype_alias = dtype.lower()
            return
        self._header.set_data_dtype(dtype)
        self._dtype_alias = None

    def get_data_dtype(self, finalize: bool = False) -> Any:
        """The on-disk data type; a pending 'compat'/'smallest' alias unless ``finalize``.

        ``finalize=True`` resolves a pending alias for the current data and
        sets the result as the image's data type.

        Raises
        ------
        AliasDataError
            When finalizing an alias that no type can honour for these data.
        """
        if self._dtype_alias is None:
            return self._header.get_data_dtype()
        if not finalize:
            return self._dtype_alias
        dtype = _resolve_alias(self._dtype_alias, np.asanyarray(self.data_for_write()))
        self.set_data_dtype(dtype)
        return self._header.get_data_dtype()

    # -- geometry -------------------------------------------------------------------------
    def update_header(self) -> None:
        """Make the header agree with data and affine, with this class's magic."""
        super().update_header()
        self._header["magic"] = self.header_class.magic

    def _affine2header(self) -> None:
        """Keep the header's transforms if they give the affine; else sform 'aligned', qform 0.

        The qform is still filled (with code 0) so that tools that read
        only the qform fields see a sensible geometry.
        """
        hdr = self._header
        try:
            best = hdr.get_best_affine()
            # exactly equal (an image just loaded) is the common case, and cheap
            if np.array_equal(best, self._affine) or np.allclose(best, self._affine):
                return
        except HeaderDataError:
            pass
        hdr.set_sform(self._affine, code="aligned")
        hdr.set_qform(self._affine, code="unknown")

    def get_qform(self, coded: bool = False) -> Any:
        """The header's qform (see :meth:`Nifti1Header.get_qform`)."""
        return self._header.get_qform(coded)

    def get_sform(self, coded: bool = False) -> Any:
        """The header's sform (see :meth:`Nifti1Header.get_sform`)."""
        return self._header.get_sform(coded)

    def set_qform(self, affine: Any, code: Any = None, strip_shears: bool = True,
                  *, update_affine: bool = True) -> None:
        """Set the header's qform; then make the image affine the header's best affine."""
        self._header.set_qform(affine, code, strip_shears)
        if update_affine:
            self._affine = self._header.get_best_affine()

    def set_sform(self, affine: Any, code: Any = None, *, update_affine: bool = True) -> None:
        """Set the header's sform; then make the image affine the header's best affine."""
        self._header.set_sform(affine, code)
        if update_affine:
            self._affine = self._header.get_best_affine()

    # -- writing ----------------------------------------------------------------------------
    def to_file_map(
        self, file_map: Mapping[str, FileHolder] | None = None, dtype: Any = None, **options: Any
    ) -> None:
        """Write the image; ``dtype`` overrides the on-disk type for this write only.

        ``options`` go to the compressor (e.g. ``compresslevel``).
        """
        if dtype is None and self._dtype_alias is not None:
            # resolved for this save only: the image keeps its alias
            dtype = _resolve_alias(self._dtype_alias, np.asanyarray(self.data_for_write()))
        elif isinstance(dtype, str) and dtype.lower() in _DTYPE_ALIASES:
            dtype = _resolve_alias(dtype.lower(), np.asanyarray(self.data_for_write()))
        super().to_file_map(file_map, dtype=dtype, **options)

    def _user_scaling(self) -> tuple[float, float] | None:
        slope, inter = self._header.get_slope_inter()
        return None if slope is None else (slope, inter or 0.0)

    def _plan(self, out_dtype: np.dtype) -> StoragePlan:
        """Scaling chosen for the data, unless the user set it in the header."""
        user = self._user_scaling()
        if user is None:
            return super()._plan(out_dtype)
        from voxelio.plugin import StoragePlan  # only saves need voxelio's writing code

        return StoragePlan(np.asanyarray(self.data_for_write()), user[0], user[1], True)

    def _prepare_header(self, header: Nifti1Header, plan: StoragePlan) -> None:
        header.set_slope_inter(plan.slope, plan.inter)
        header["magic"] = self.header_class.magic
        header.set_data_offset(self._data_offset(header))

    def _data_offset(self, header: Nifti1Header) -> int:
        """Where the data go: the header's offset if set, else right after the header."""
        return header.get_data_offset()


class Nifti1Image(Nifti1Pair):
    """A NIfTI-1 image in one ``.nii`` file: header, extensions, then the data."""

    header_class: ClassVar[type[Nifti1Header]] = Nifti1Header
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = _layout.SINGLE_FILES_TYPES
    valid_exts: ClassVar[tuple[str, ...]] = _layout.SINGLE_EXTENSIONS

    @classmethod
    def _data_proxy(cls, file_map: Mapping[str, FileHolder], header: Any, **kwargs: Any) -> Any:
        """The data after the header; a pair's header (magic 'ni1') alone has none.

        Such a header read as one file (an object or URL with no partner) fails
        here, at load, saying where its data are, not at the first data read.
        """
        magic = bytes(getattr(header, "pair_magic", None) or b"").rstrip(b"\0")
        pair_header = bool(magic) and bytes(header["magic"]).rstrip(b"\0") == magic
        try:
            proxy = super()._data_proxy(file_map, header, **kwargs)
            if pair_header and proxy.shape and 0 not in proxy.shape:
                # magic says "pair": are the data here all the same? (a compressed
                # file's size does not tell; the rare file needs this one read)
                proxy[tuple(n - 1 for n in proxy.shape)]
            return proxy
        except ImageFileError as err:
            if not pair_header:
                raise
            magic = magic.decode("ascii", "replace")
            raise ImageFileError(
                f"{err}; its magic {magic!r} says this is the header of a NIfTI pair, whose "
                "data are in a separate .img file; load the pair by the name or URL of the "
                ".hdr (the .img beside it), or give both files: Nifti1Pair.from_file_map("
                "{'header': FileHolder(fileobj=hdr), 'image': FileHolder(fileobj=img)})"
            ) from err

    def _data_offset(self, header: Nifti1Header) -> int:
        """At least after header and extensions; a larger offset set by the user is kept."""
        need = header.minimum_data_offset()
        wanted = int(float(header["vox_offset"]))
        if wanted and wanted < need:
            raise HeaderDataError(
                f"vox_offset is set to {wanted}, but header and extensions need at least {need}"
            )
        return max(wanted, need)


def _resolve_alias(alias: str, data: np.ndarray) -> np.dtype:
    """The dtype 'compat' or 'smallest' stands for, given the data to store.

    Both give the smallest of uint8, int16, int32 holding integer data;
    'compat' gives float32 (complex64) for floating data whose finite
    values float32 can hold, 'smallest' has no meaning for them.
    """
    kind = data.dtype.kind
    if kind in "biu":
        lo, hi = (int(data.min()), int(data.max())) if data.size else (0, 0)
        for candidate in (np.uint8, np.int16, np.int32):
            info = np.iinfo(candidate)
            if info.min <= lo and hi <= info.max:
                return np.dtype(candidate)
        raise AliasDataError(
            f"integer data in [{lo}, {hi}] fit none of uint8, int16, int32 ({alias!r}); "
            "pass dtype=np.int64 explicitly"
        )
    if kind in "fc" and alias == "compat":
        finite = np.abs(data[np.isfinite(data)]) if data.size else data
        biggest = float(np.max(finite.view(finite.real.dtype) if kind == "c" else finite,
                               initial=0))
        # both as Python floats: numpy would cast ``biggest`` to float32 for the
        # comparison, and warn of the overflow the test is there to catch
        if biggest > float(np.finfo(np.float32).max):
            raise AliasDataError(
                f"'compat' stores floating point data as float32, which cannot hold "
                f"{biggest:g}; pass dtype=np.float64 explicitly"
            )
        return np.dtype(np.float32 if kind == "f" else np.complex64)
    raise AliasDataError(f"{alias!r} has no meaning for {data.dtype} data")

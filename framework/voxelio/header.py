"""The header template protocol every format's header follows.

A header holds what a format stores about an image besides the voxels: the
on-disk data type, the array shape and the voxel sizes ("zooms"), plus
whatever else the format knows. :class:`Header` is the smallest useful
implementation; format headers subclass it (binary ones through
:class:`voxelio.structheader.StructHeader`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy as np

from .errors import HeaderDataError


class Header:
    """Template header: data dtype, data shape and zooms.

    Parameters
    ----------
    data_dtype : dtype-like, optional
        The dtype the image data has (or will have) on disk.
    shape : sequence of int, optional
        The shape of the image array.
    zooms : sequence of float, optional
        Voxel sizes, one per axis; defaults to 1.0 for every axis.
    """

    #: memory layout of the stored array: 'F' (first axis fastest) or 'C'
    data_layout = "F"
    #: whether the format stores a scale factor (slope) for the data
    has_data_slope = False
    #: whether the format stores an intercept (offset added to the data)
    has_data_intercept = False

    def __init__(
        self,
        data_dtype: Any = np.float32,
        shape: Sequence[int] = (0,),
        zooms: Sequence[float] | None = None,
    ) -> None:
        self.set_data_dtype(data_dtype)
        self._zooms: tuple[float, ...] = ()
        self.set_data_shape(shape)
        if zooms is not None:
            self.set_zooms(zooms)

    # -- construction -----------------------------------------------------
    @classmethod
    def from_header(cls, header: Any = None) -> Header:
        """Make a header of this class from another header (or None).

        A header of exactly this class is copied. Any other object that has
        ``get_data_dtype``, ``get_data_shape`` and ``get_zooms`` gives those
        three values to a fresh header of this class; a dtype this class
        cannot store is left at its default (the caller chooses the dtype to
        save, as ``from_image(img, dtype=...)`` does).
        """
        if header is None:
            return cls()
        if type(header) is cls:
            return header.copy()
        obj = cls()
        with contextlib.suppress(HeaderDataError):
            obj.set_data_dtype(header.get_data_dtype())
        obj.set_data_shape(header.get_data_shape())
        obj.set_zooms(header.get_zooms())
        return obj

    def copy(self) -> Header:
        """Return an independent copy of this header."""
        return type(self)(self._dtype, self._shape, self._zooms)

    # -- the three template values ------------------------------------------
    def get_data_dtype(self) -> np.dtype:
        """Return the numpy dtype of the image data."""
        return self._dtype

    def set_data_dtype(self, dtype: Any) -> None:
        """Set the numpy dtype of the image data."""
        self._dtype = np.dtype(dtype)

    def get_data_shape(self) -> tuple[int, ...]:
        """Return the shape of the image data."""
        return self._shape

    def set_data_shape(self, shape: Sequence[int]) -> None:
        """Set the data shape; zooms grow with 1.0 or shrink to match."""
        shape = tuple(int(n) for n in shape)
        if any(n < 0 for n in shape):
            raise HeaderDataError(f"shape {shape} has a negative length")
        self._shape = shape
        zooms = self._zooms[: len(shape)]
        self._zooms = zooms + (1.0,) * (len(shape) - len(zooms))

    def get_zooms(self) -> tuple[float, ...]:
        """Return the voxel sizes, one per data axis."""
        return self._zooms

    def set_zooms(self, zooms: Sequence[float]) -> None:
        """Set voxel sizes; there must be one per data axis, none negative."""
        zooms = tuple(float(z) for z in zooms)
        if len(zooms) != len(self._shape):
            raise HeaderDataError(
                f"expected {len(self._shape)} zooms for shape {self._shape}, got {len(zooms)}"
            )
        if any(z < 0 for z in zooms):
            raise HeaderDataError(f"zooms {zooms} must not be negative")
        self._zooms = zooms

    # -- geometry ------------------------------------------------------------
    def get_base_affine(self) -> np.ndarray:
        """Affine from shape and zooms alone: centred, x axis flipped."""
        shape = self.get_data_shape()
        zooms = self.get_zooms()
        from .geometry import shape_zoom_affine  # here: a load never needs it

        return shape_zoom_affine(shape[:3], zooms[:3], flip_x=True)

    get_best_affine = get_base_affine

    def get_world_space(self) -> str | None:
        """Which world the affine maps to, if the format says.

        One of ``'scanner'`` (scanner RAS), ``'aligned'`` (aligned to another
        image), ``'talairach'``, ``'mni'``, or None when unknown. Conversions
        use it so that another format records the same space (MGH's vox2ras
        is scanner RAS: a NIfTI copy gets qform/sform code 1).
        """
        return None

    def conversion_losses(self, target: Header) -> list[str]:
        """What of this header ``target`` (a header of another format) cannot hold.

        Each entry names a piece of metadata that a conversion would drop;
        :meth:`SpatialImage.from_image` warns with them and keeps them in
        ``conversion_report``. The template loses nothing (dtype, shape and
        zooms always carry over); formats with more fields override it.
        """
        return []

    def reorient_fields(self, ornt: np.ndarray, voxel_transform: np.ndarray) -> None:
        """Update fields tied to voxel axes for a reorientation by ``ornt``.

        Called by :meth:`SpatialImage.as_reoriented` on a copy of the header,
        before the framework moves the data shape and zooms (so the header
        still describes the old axes). ``voxel_transform`` is the (4, 4)
        matrix taking new voxel indices to old ones (``inv_ornt_aff`` on the
        spatial axes): a stored
        voxel-to-world matrix ``A`` becomes ``A @ voxel_transform``. The
        template has nothing to do; formats with per-axis fields (slice
        direction, stored transforms) override it.
        """

    # -- data I/O (implemented in voxelio.dataio, which sits above this module) -------
    def data_from_fileobj(self, fileobj: BinaryIO) -> np.ndarray:
        """Read the image array from ``fileobj`` at its current position."""
        from .dataio import data_from_fileobj

        return data_from_fileobj(self, fileobj)

    def data_to_fileobj(self, data: Any, fileobj: BinaryIO, rescale: bool = True) -> None:
        """Write ``data`` to ``fileobj`` at its current position in this header's dtype."""
        from .dataio import data_to_fileobj

        data_to_fileobj(self, data, fileobj, rescale)

    # -- comparison -----------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Header):
            return NotImplemented
        return (
            self.get_data_dtype() == other.get_data_dtype()
            and tuple(self.get_data_shape()) == tuple(other.get_data_shape())
            and tuple(self.get_zooms()) == tuple(other.get_zooms())
        )

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(data_dtype={self.get_data_dtype()}, "
            f"shape={tuple(self.get_data_shape())}, zooms={tuple(self.get_zooms())})"
        )

"""How an image becomes another: :class:`~voxelio.image.SpatialImage`'s ``from_image``
(NiBabel images included) and ``as_reoriented``, with their helpers.

Methods of :class:`~voxelio.image.SpatialImage` written here as functions and
placed in the class on first use (:class:`voxelio._lazy.LazyMember`): a
process that only loads images never imports this module.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np

from .errors import ConversionWarning, HeaderDataError
from .header import Header
from .image import SpatialImage


@classmethod
def from_image(cls, img: Any, *, dtype: Any = None) -> SpatialImage:
    """An image of this class with the data, affine, header and extras of ``img``.

    Parameters
    ----------
    img : image
        Any object with ``dataobj``, ``affine``, ``header`` and ``extra``.
    dtype : dtype-like, optional
        On-disk dtype for the new image. By default the source's dtype is
        kept; if this format cannot store it, HeaderDataError says which
        dtypes it can store, rather than losing precision silently.

    Notes
    -----
    A NiBabel image whose class a voxelio format names as its
    counterpart first becomes that format's voxelio image through the
    NiBabel bridge (:func:`voxelio.integrations.nibabel.from_nibabel`):
    its header bytes, NIfTI extensions, MGH footer and scaling carry
    over, and a NiBabel proxy becomes a voxelio proxy of the same file.
    That image is then converted as any voxelio image is.
    """
    if _is_nibabel_image(img):
        img = _bridged_from_nibabel(img)
    header = cls.header_class.from_header(img.header)
    wanted = np.dtype(dtype) if dtype is not None else _source_dtype(img)
    if wanted is not None:
        try:
            header.set_data_dtype(wanted)
        except HeaderDataError as err:
            raise HeaderDataError(
                _conversion_message(cls, wanted, err, chosen=dtype is not None)) from None
    new = cls(img.dataobj, img.affine, header, extra=getattr(img, "extra", None))
    new._data_cache = getattr(img, "_data_cache", None)
    # the constructor stored the affine in the header as the format can
    new.conversion_report = _conversion_losses(img.header, new.header) + new._affine_losses()
    if new.conversion_report:
        warnings.warn(
            ConversionWarning(
                f"{type(img).__name__} -> {cls.__name__} cannot keep: "
                + "; ".join(new.conversion_report)
                + " (listed in the new image's conversion_report)",
                new.conversion_report,
            ),
            stacklevel=2,
        )
    return new


def _affine_losses(self) -> tuple[str, ...]:
    """What of the affine the header (as updated from it) gives back differently."""
    best = getattr(self._header, "get_best_affine", None)
    if self._affine is None or best is None:
        return ()
    try:
        stored = best()
    except Exception:  # a header that cannot build an affine: nothing to compare
        return ()
    from .geometry import affine_losses

    return affine_losses(self._affine, stored)


def as_reoriented(self, ornt: Any) -> SpatialImage:
    """This image with its voxel axes flipped and transposed by ``ornt``.

    Parameters
    ----------
    ornt : (n, 2) array-like
        An orientation (see :mod:`voxelio.orientation`): row ``i`` gives
        the new position of voxel axis ``i`` and -1 to reverse it. Only
        the first ``n`` axes move (time and later axes stay).

    Returns
    -------
    SpatialImage
        ``self`` if ``ornt`` changes nothing; else a new image of the
        same class whose affine maps the moved voxels to the same world
        points. A proxy image stays lazy: the new ``dataobj`` is a view
        that reads only what an index needs. The header follows (shape,
        zooms, and format fields such as NIfTI's q/sform and dim_info).
        ``new.as_reoriented(voxelio.orientation.inverse_ornt(ornt))``
        gives back the original data and affine.
    """
    from . import orientation
    from .reoriented import reorient_dataobj

    ornt = orientation._as_ornt(ornt)
    n = len(ornt)
    if n > self.ndim:
        raise orientation.OrientationError(
            f"orientation has {n} rows for a {self.ndim}-d image"
        )
    if n > 3:
        if not orientation.is_identity(ornt[3:] - [[3, 0]]):
            raise orientation.OrientationError(
                "only the three spatial axes can be reoriented; rows 3 and later of "
                f"the orientation must leave their axes in place, not {ornt[3:].tolist()}"
            )
        ornt, n = ornt[:3], 3
    if orientation.is_identity(ornt):
        return self
    transform = orientation.inv_ornt_aff(ornt, self.shape)
    # the same transform on the three spatial axes of a 4x4 affine
    full = np.eye(4)
    full[:n, :n] = transform[:n, :n]
    full[:n, 3] = transform[:n, n]
    affine = None if self._affine is None else self._affine @ full
    data = reorient_dataobj(self.data_for_write(), ornt)
    header = self._header.copy()
    zooms = list(header.get_zooms())
    moved = list(zooms)
    for axis, target in enumerate(ornt[:, 0].astype(int)):
        if axis < len(zooms) and target < len(zooms):
            moved[target] = zooms[axis]
    header.reorient_fields(ornt, full)  # format fields first: they see the old axes
    header.set_data_shape(data.shape)
    header.set_zooms(moved)
    new = type(self)(data, affine, header, extra=dict(self._extra))
    return new


def _is_nibabel_image(img: Any) -> bool:
    """True for an instance of a NiBabel class (or a subclass of one).

    NiBabel is never imported for this: its images exist only once it has been.
    """
    if "nibabel" not in sys.modules:
        return False
    return any(klass.__module__.startswith("nibabel.") for klass in type(img).__mro__)


def _bridged_from_nibabel(nib_img: Any) -> Any:
    """The voxelio image of ``nib_img``'s counterpart format; ``nib_img`` if none exists."""
    from .integrations.nibabel import NibabelBridgeError, from_nibabel

    try:
        return from_nibabel(nib_img)
    except NibabelBridgeError:
        return nib_img  # no format claims its class: the generic conversion reads it


def _source_dtype(img: Any) -> np.dtype | None:
    try:
        return np.dtype(img.get_data_dtype())
    except (AttributeError, TypeError):
        dataobj = getattr(img, "dataobj", None)
        return np.dtype(dataobj.dtype) if hasattr(dataobj, "dtype") else None


def _conversion_losses(source: Any, target: Header) -> tuple[str, ...]:
    """What ``source`` (a header of another class) holds that ``target`` cannot."""
    if type(source) is type(target):
        return ()
    hook = getattr(source, "conversion_losses", None)
    return tuple(hook(target)) if hook is not None else ()


def _conversion_message(cls: type, dtype: np.dtype, err: Exception, chosen: bool) -> str:
    """Why ``cls`` cannot store ``dtype``: the stored dtypes once, advice if none was chosen."""
    try:
        from .dtypes import supported_np_types

        names = ", ".join(sorted(str(np.dtype(t)) for t in supported_np_types(cls)))
    except Exception:  # the listing is a courtesy; the conversion error is what matters
        names = None
    text = f"{cls.__name__} cannot store {dtype} data; it stores {names}" if names else (
        f"{cls.__name__} cannot store {dtype} data ({err})")
    if chosen:  # the caller named this dtype: advice to name one would be noise
        return text
    from .writing import _CHOOSE_DTYPE

    if _CHOOSE_DTYPE.get(None) is not None:  # a caller with its own words (the CLI)
        return f"{text}. Choose one: {_CHOOSE_DTYPE.get().format(dtype='...')}"
    return (text + ". Choose one: voxelio.save(img, path, dtype=...), "
            "Klass.from_image(img, dtype=...) or `voxelio convert IN OUT --dtype ...`")

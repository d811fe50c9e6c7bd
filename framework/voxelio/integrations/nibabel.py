"""The NiBabel bridge: voxelio images to NiBabel images and back, lossless and lazy.

``img.to_nibabel()`` gives the NiBabel image of the same format (a
``nibabel.Nifti1Image`` for a NIfTI-1 file...) holding a header with the
same bytes, the same extensions, affine and extras, and the *same data
object*: a proxy image stays lazy (NiBabel reads through voxelio's proxy,
with its fast decompression and exact scaling); an array image shares its
array. :func:`from_nibabel` goes the other way, just as lazily.

The framework knows no format here either: each format's
:class:`~voxelio.registry.spec.FormatSpec` names its NiBabel counterpart
(``nibabel_class``). Headers travel as their binary block; a header class
can refine this with two methods:

``to_nibabel_header(self, nib_header_class, extra)``
    Return the NiBabel header. Things NiBabel's header cannot hold may be
    put in ``extra`` (a dict that becomes the NiBabel image's ``extra``).
``from_nibabel_header(cls, nib_header, extra)`` (classmethod)
    Return a header of this class; may take back (pop) entries from ``extra``.

This is the only voxelio module that imports NiBabel, and only when one of
its functions runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from ..errors import VoxelioError

#: what to tell a user without NiBabel
INSTALL_HINT = "pip install 'voxelio[nibabel]'"


class NibabelBridgeError(VoxelioError, TypeError):
    """An image has no NiBabel counterpart (or NiBabel's has no voxelio one)."""


class NibabelMissingError(VoxelioError, ImportError):
    """NiBabel is not installed."""


def _nibabel() -> Any:
    try:
        return importlib.import_module("nibabel")
    except ImportError as err:
        raise NibabelMissingError(
            f"the NiBabel bridge needs NiBabel, which is not installed ({err}); "
            f"install it with {INSTALL_HINT}"
        ) from None


# -- voxelio -> NiBabel --------------------------------------------------------------------
def to_nibabel(img: Any) -> Any:
    """The NiBabel image holding the same header, affine, extras and (lazy) data.

    Parameters
    ----------
    img : voxelio.SpatialImage
        An image of a format whose plugin declares a NiBabel counterpart.

    Returns
    -------
    nibabel.spatialimages.SpatialImage
        Same header bytes (NIfTI extensions and MGH footer included), same
        affine, ``extra`` copied, and ``dataobj`` the very object voxelio
        holds (a proxy stays a proxy: nothing is read; an array is shared,
        not copied). If the image's data cache was filled by ``get_data``,
        that array is what NiBabel gets, as a save would write it.

    Raises
    ------
    NibabelMissingError
        If NiBabel is not installed.
    NibabelBridgeError
        If the image's format declares no NiBabel counterpart.
    """
    _nibabel()
    _, nib_class = _counterpart_of_voxelio(type(img))
    img.update_header()
    extra = dict(img.extra)
    nib_header = _header_to_nibabel(img.header, nib_class.header_class, extra)
    file_map = _nibabel_file_map(nib_class, img.file_map)
    nib_img = nib_class(
        img.data_for_write(), img.affine, header=nib_header, extra=extra, file_map=file_map
    )
    return nib_img


def _header_to_nibabel(header: Any, nib_header_class: type, extra: dict[str, Any]) -> Any:
    hook = getattr(header, "to_nibabel_header", None)
    if hook is not None:
        return hook(nib_header_class, extra)
    block = getattr(header, "binaryblock", None)
    if block is None:
        raise NibabelBridgeError(
            f"{type(header).__name__} has no binary block and no to_nibabel_header(): "
            f"cannot make a {nib_header_class.__name__}"
        )
    return nib_header_class(binaryblock=bytes(block), check=False)


def _nibabel_file_map(nib_class: Any, file_map: Mapping[str, Any]) -> Any:
    """NiBabel file holders naming the same files (or file objects), positions kept."""
    from nibabel.fileholders import FileHolder as NibFileHolder

    out = nib_class.make_file_map()
    for key in out:
        holder = file_map.get(key)
        if holder is not None:
            out[key] = NibFileHolder(holder.filename, holder.fileobj, holder.pos)
    return out


def _counterpart_of_voxelio(cls: type) -> tuple[str, Any]:
    """The format name and NiBabel class for a voxelio image class (nearest in its MRO)."""
    from ..registry.spec import resolve_ref
    from ..registry.store import get_registry

    reg = get_registry()
    by_ref = {e.spec.image_class_ref: e for e in reg.entries.values()}
    for klass in cls.__mro__:
        entry = by_ref.get(f"{klass.__module__}:{klass.__qualname__}")
        if entry is None:
            continue
        if not entry.spec.nibabel_class:
            raise NibabelBridgeError(
                f"format {entry.name!r} ({cls.__name__}) declares no NiBabel counterpart "
                "(its FormatSpec has no nibabel_class), so it cannot become a NiBabel image; "
                "save it in a format NiBabel reads, or convert first (e.g. "
                "voxelio.Nifti1Image.from_image(img).to_nibabel())"
            )
        try:
            return entry.name, resolve_ref(entry.spec.nibabel_class)
        except (ImportError, AttributeError) as err:
            raise NibabelBridgeError(
                f"format {entry.name!r} names {entry.spec.nibabel_class!r} as its NiBabel "
                f"counterpart, which this NiBabel does not have ({err})"
            ) from None
    raise NibabelBridgeError(
        f"{cls.__name__} is not the image class of any installed voxelio format: "
        "no NiBabel counterpart is known"
    )


# -- NiBabel -> voxelio --------------------------------------------------------------------
def from_nibabel(nib_img: Any, *, format: str | None = None) -> Any:
    """The voxelio image holding the same header, affine, extras and (lazy) data.

    Parameters
    ----------
    nib_img : nibabel.spatialimages.SpatialImage
        A NiBabel image whose class some installed voxelio format names as
        its counterpart (Nifti1Image, Nifti1Pair, AnalyzeImage, MGHImage...).
    format : str, optional
        The voxelio format to make; by default the one whose counterpart is
        nearest to the NiBabel image's class.

    Returns
    -------
    voxelio.SpatialImage
        Same header bytes and extensions, affine and extras. A NiBabel array
        proxy becomes a voxelio proxy on the same file, range and scaling
        (nothing is read); an array is shared; a voxelio proxy (an image that
        came from :func:`to_nibabel`) is used as it is.

    Raises
    ------
    NibabelBridgeError
        If no installed format has this NiBabel class as its counterpart.
    """
    _nibabel()
    name, vx_class = _counterpart_of_nibabel(type(nib_img), format)
    extra = dict(getattr(nib_img, "extra", None) or {})
    header = _header_from_nibabel(vx_class.header_class, nib_img.header, extra)
    dataobj = voxelio_dataobj(nib_img.dataobj)
    file_map = vx_class.make_file_map(
        {k: (h.filename if h.fileobj is None else h.fileobj) for k, h in nib_img.file_map.items()
         if k in dict(vx_class.files_types) and (h.filename or h.fileobj is not None)}
    )
    img = vx_class(dataobj, nib_img.affine, header, extra=extra, file_map=file_map)
    img.format_name = name
    return img


def _header_from_nibabel(header_class: Any, nib_header: Any, extra: dict[str, Any]) -> Any:
    hook = getattr(header_class, "from_nibabel_header", None)
    if hook is not None:
        return hook(nib_header, extra)
    return header_class(binaryblock=bytes(nib_header.binaryblock), check=False)


def voxelio_dataobj(dataobj: Any) -> Any:
    """A voxelio data object for a NiBabel one, reading the same bytes lazily.

    A NiBabel ``ArrayProxy`` becomes a voxelio :class:`~voxelio.proxy.ArrayProxy`
    on the same file (name or file object), offset, shape, dtype, memory
    order and scaling. Arrays and voxelio proxies are returned as they are.
    """
    from ..proxy import ArrayProxy, is_proxy

    if not is_proxy(dataobj) or isinstance(dataobj, ArrayProxy):
        return dataobj
    from nibabel.arrayproxy import ArrayProxy as NibArrayProxy

    if type(dataobj) is not NibArrayProxy:
        return dataobj  # another proxy kind: it reads itself
    spec = (
        tuple(dataobj.shape),
        dataobj.dtype,
        int(dataobj.offset),
        float(dataobj.slope),
        float(dataobj.inter),
    )
    return ArrayProxy(dataobj.file_like, spec, order=dataobj.order)


def _counterpart_of_nibabel(cls: type, format: str | None) -> tuple[str, Any]:
    from ..registry.store import get_registry

    reg = get_registry()
    if format is not None:
        entry = reg.entries.get(format)
        if entry is None:
            raise NibabelBridgeError(f"no installed voxelio format is named {format!r}")
        return entry.name, entry.spec.load_image_class()
    by_ref: dict[str, Any] = {}
    for entry in reg.ok_entries():
        if entry.spec.nibabel_class:
            by_ref.setdefault(entry.spec.nibabel_class, entry)
    for klass in cls.__mro__:
        entry = by_ref.get(f"{klass.__module__}:{klass.__qualname__}")
        if entry is not None:
            return entry.name, entry.spec.load_image_class()
    known = ", ".join(sorted(ref.rsplit(":", 1)[1] for ref in by_ref)) or "none"
    raise NibabelBridgeError(
        f"no installed voxelio format reads what a NiBabel {cls.__name__} holds "
        f"(NiBabel classes with a voxelio counterpart: {known}); save it with NiBabel "
        "and load the file, or pass format='...'"
    )


__all__ = [
    "INSTALL_HINT",
    "NibabelBridgeError",
    "NibabelMissingError",
    "from_nibabel",
    "to_nibabel",
    "voxelio_dataobj",
]

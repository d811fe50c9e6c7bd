"""Which numpy data types an image class or header can store."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .errors import HeaderDataError

#: scalar types tried by :func:`supported_np_types`
CANDIDATE_TYPES: tuple[type, ...] = (
    np.bool_,
    np.int8,
    np.uint8,
    np.int16,
    np.uint16,
    np.int32,
    np.uint32,
    np.int64,
    np.uint64,
    # distinct scalar types with the same dtype as one of the above on some
    # platforms (np.longlong is not np.int64 on Linux): listed so that a
    # membership test with either name works
    np.longlong,
    np.ulonglong,
    np.float16,
    np.float32,
    np.float64,
    np.longdouble,
    np.complex64,
    np.complex128,
    np.clongdouble,
)

#: structured types some formats store (colour images)
RGB = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
RGBA = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1"), ("A", "u1")])


def _header_of(obj: Any) -> Any:
    if isinstance(obj, type):
        header_class = getattr(obj, "header_class", None)
        return header_class() if header_class is not None else obj()
    if hasattr(obj, "header") and hasattr(obj.header, "set_data_dtype"):
        return obj.header.copy()
    return obj.copy() if hasattr(obj, "copy") else obj


def supported_np_types(obj: Any) -> set[type]:
    """Numpy scalar types that ``obj`` can store.

    Parameters
    ----------
    obj : image, header, or image/header class
        Anything with ``set_data_dtype`` (directly or through its header),
        which must raise HeaderDataError for a dtype it cannot store.

    Returns
    -------
    set of numpy scalar types
    """
    return {t for t in CANDIDATE_TYPES if _accepts(obj, np.dtype(t))}


def supported_dtypes(obj: Any) -> tuple[np.dtype, ...]:
    """Like :func:`supported_np_types`, as dtypes, with colour dtypes included."""
    found = [np.dtype(t) for t in CANDIDATE_TYPES if _accepts(obj, np.dtype(t))]
    found += [dt for dt in (RGB, RGBA) if _accepts(obj, dt)]
    return tuple(dict.fromkeys(found))


def _accepts(obj: Any, dtype: np.dtype) -> bool:
    header = _header_of(obj)
    try:
        header.set_data_dtype(dtype)
    except (HeaderDataError, ValueError, TypeError, KeyError):
        return False
    got = np.dtype(header.get_data_dtype())
    return got.newbyteorder("=") == dtype.newbyteorder("=") if not got.fields else got == dtype


def dtype_label(dtype: Any, *, byte_order: bool = False) -> str:
    """A dtype as people read it: 'int16', and a colour type by its fields ('RGB').

    The byte order is left out ('>i2' and '<i2' are both 'int16'): data
    come back in the machine's order whatever a file stores, so formats
    that store different orders read the same. ``byte_order=True`` adds
    it for types of more than one byte ('int16, big-endian').

    Accepts anything :func:`numpy.dtype` does, or a spec's dtype name
    (``"[('R', 'u1'), ('G', 'u1'), ('B', 'u1')]"``); a name it cannot read is
    returned unchanged.

    >>> dtype_label('>i2'), dtype_label('<f4', byte_order=True), dtype_label(RGB)
    ('int16', 'float32, little-endian', 'RGB')
    """
    if isinstance(dtype, str) and dtype.startswith("["):
        from .registry.spec import parse_dtype

        try:
            dtype = parse_dtype(dtype)
        except Exception:  # a label is a courtesy: show what was given
            return dtype
    try:
        dt = np.dtype(dtype)
    except TypeError:
        return str(dtype)
    if dt.names and all(dt.fields[n][0] == np.uint8 for n in dt.names):
        return "".join(dt.names)
    if dt.names:
        return str(dt)
    label = str(dt.newbyteorder("="))
    if byte_order and dt.itemsize > 1:
        big = dt.byteorder == ">" or (dt.byteorder in "=|" and sys.byteorder == "big")
        label += ", big-endian" if big else ", little-endian"
    return label

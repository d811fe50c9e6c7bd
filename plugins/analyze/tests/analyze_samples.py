"""Sample arrays and helpers shared by the voxelio-analyze tests."""

from __future__ import annotations

import numpy as np

from voxelio.dtypes import RGB

#: every dtype Analyze stores
DTYPES = (
    np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.float32),
    np.dtype(np.float64), np.dtype(np.complex64), RGB,
)
DTYPE_IDS = ("uint8", "int16", "int32", "float32", "float64", "complex64", "RGB")
ORDERS = ("<", ">")
COMPRESSIONS = ("", ".gz", ".bz2", ".zst")

SHAPE = (4, 5, 3, 2)


def sample_array(dtype: np.dtype, shape: tuple[int, ...] = SHAPE) -> np.ndarray:
    """A small array of ``dtype`` with distinct, exactly representable values."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if dtype == RGB:
        arr = np.zeros(n, dtype=RGB)
        arr["R"] = np.arange(n) % 256
        arr["G"] = (np.arange(n) * 7) % 256
        arr["B"] = 255 - np.arange(n) % 256
        return arr.reshape(shape)
    values = np.arange(n) - (0 if dtype.kind == "u" else n // 3)
    arr = values.astype(dtype)
    if dtype.kind == "c":
        arr = arr + 1j * np.arange(n).astype(np.float32)
        arr = arr.astype(dtype)
    return arr.reshape(shape)


def sample_affine() -> np.ndarray:
    """An affine Analyze can store: flipped x, positive sizes, integer origin."""
    affine = np.diag([-2.0, 3.0, 1.5, 1.0])
    affine[:3, 3] = [8.0, -6.0, -1.5]
    return affine

"""Shared helpers for the voxelio-nifti2 tests."""

from __future__ import annotations

import numpy as np

from voxelio.dtypes import RGB, RGBA
from voxelio_nifti1.codes import DATATYPES

#: every dtype this platform can store in NIfTI-2 (NIfTI-1's data types)
ALL_DTYPES = [np.dtype(d) for d in DATATYPES.supported_dtypes()]


def sample_data(dtype: np.dtype, shape: tuple[int, ...] = (4, 3, 2)) -> np.ndarray:
    """Values every dtype holds exactly, negative where the dtype allows."""
    dtype = np.dtype(dtype)
    base = (np.arange(int(np.prod(shape))) % 11).reshape(shape)
    if dtype in (RGB, RGBA):
        arr = np.zeros(shape, dtype)
        for i, name in enumerate(dtype.names):
            arr[name] = (base + i) % 256
        return arr
    if dtype.kind in "if" and dtype.kind != "u":
        base = base - 5
    arr = base.astype(dtype)
    if dtype.kind == "c":
        arr = arr + 1j * base.astype(dtype)
    return arr

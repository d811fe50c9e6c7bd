"""Reading and writing the data array a header describes, from and to a file object.

The I/O half of the header protocol: :meth:`Header.data_from_fileobj` and
:meth:`Header.data_to_fileobj` delegate here, so that the header module
needs neither the proxy nor the writer (it sits below the I/O code).
"""

from __future__ import annotations

from typing import Any, BinaryIO

import numpy as np

from .proxy import read_array
from .writing import write_array

__all__ = ["data_from_fileobj", "data_to_fileobj"]


def data_from_fileobj(header: Any, fileobj: BinaryIO) -> np.ndarray:
    """Read the array ``header`` describes from ``fileobj`` at its current position.

    Parameters
    ----------
    header : Header
        Gives the stored dtype, the shape and the memory layout (``data_layout``).
    fileobj : binary file object
        Positioned at the first stored value; compressed content is
        decompressed.

    Returns
    -------
    numpy.ndarray
        The stored values, unscaled, in memory.
    """
    return read_array(
        fileobj,
        header.get_data_dtype(),
        header.get_data_shape(),
        fileobj.tell(),
        order=header.data_layout,
    )


def data_to_fileobj(header: Any, data: Any, fileobj: BinaryIO, rescale: bool = True) -> None:
    """Write ``data`` to ``fileobj`` at its current position as ``header`` stores it.

    Parameters
    ----------
    header : Header
        Gives the stored dtype and the memory layout (``data_layout``).
    data : array-like
    fileobj : binary file object
    rescale : bool
        Kept for the header protocol; the template header stores no scaling.
    """
    write_array(
        np.asanyarray(data),
        fileobj,
        header.get_data_dtype(),
        offset=fileobj.tell(),
        order=header.data_layout,
    )

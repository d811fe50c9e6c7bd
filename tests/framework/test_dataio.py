"""Header.data_from_fileobj / data_to_fileobj, implemented in voxelio.dataio."""

from __future__ import annotations

import io

import numpy as np
import pytest

from voxelio import dataio
from voxelio.header import Header


@pytest.mark.parametrize("dtype", ["<i2", ">f4", "u1"])
def test_header_round_trips_its_array_at_the_file_position(dtype):
    arr = np.arange(24, dtype=dtype).reshape(2, 3, 4)
    header = Header(dtype, arr.shape)
    buf = io.BytesIO(b"HEAD")
    buf.seek(4)
    header.data_to_fileobj(arr, buf)
    assert buf.getvalue()[4:] == arr.tobytes(order="F")  # Fortran order on disk
    buf.seek(4)
    back = header.data_from_fileobj(buf)
    assert back.dtype == np.dtype(dtype).newbyteorder("=")  # native byte order in memory
    assert back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_methods_and_module_functions_agree():
    arr = np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)
    header = Header(np.float64, arr.shape)
    via_method, via_module = io.BytesIO(), io.BytesIO()
    header.data_to_fileobj(arr, via_method)
    dataio.data_to_fileobj(header, arr, via_module)
    assert via_method.getvalue() == via_module.getvalue() == arr.astype("f8").tobytes("F")
    via_module.seek(0)
    np.testing.assert_array_equal(dataio.data_from_fileobj(header, via_module), arr)


def test_header_module_imports_no_io_module():
    import subprocess
    import sys

    code = (
        "import sys, voxelio.header; "
        "print([m for m in ('voxelio.proxy', 'voxelio.writing', 'voxelio.dataio', "
        "'voxelio.codecs') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

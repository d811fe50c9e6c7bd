"""Property tests: proxy reads equal numpy indexing of the full array.

Random shapes, dtypes, byte orders, memory orders, offsets, scalings,
indices (ints, slices with steps, negative steps, Ellipsis, None), storage
(file name with and without memory mapping, file object) and compression.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from index_strategies import indices

from voxelio.proxy import ArrayProxy

DTYPES = ["u1", "i1", "i2", "u2", "i4", "f4", "f8", "c8", "i8"]
SCRATCH = tempfile.mkdtemp(prefix="voxelio-proxy-props-")
PROPS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def stored_arrays(draw):
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    dtype = np.dtype(draw(st.sampled_from(DTYPES))).newbyteorder(draw(st.sampled_from("<>")))
    order = draw(st.sampled_from("FC"))
    values = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) - 7
    arr = values.astype(dtype)
    return arr, order




def _payload(arr: np.ndarray, order: str, offset: int) -> bytes:
    return b"\xab" * offset + arr.tobytes(order=order)


def _storage(kind: str, payload: bytes, counter=None):
    if counter is None:
        counter = [0]
    counter[0] += 1
    if kind == "bytesio":
        return io.BytesIO(payload)
    if kind == "gzip-bytesio":
        return io.BytesIO(gzip.compress(payload, mtime=0))
    path = os.path.join(SCRATCH, f"a{counter[0]}.{kind}")
    with open(path, "wb") as f:
        f.write({"raw": payload, "gz": gzip.compress(payload), "bz2": bz2.compress(payload)}[kind])
    return path


@PROPS
@given(stored=stored_arrays(), data=st.data())
def test_slicing_matches_numpy(stored, data):
    arr, order = stored
    offset = data.draw(st.integers(0, 40))
    kind = data.draw(st.sampled_from(["raw", "gz", "bz2", "bytesio", "gzip-bytesio"]))
    mmap = data.draw(st.sampled_from([True, False, "r"]))
    proxy = ArrayProxy(
        _storage(kind, _payload(arr, order, offset)),
        (arr.shape, arr.dtype, offset),
        mmap=mmap,
        order=order,
    )
    idx = data.draw(indices(arr.shape))
    got = proxy[idx]
    want = arr[idx]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    proxy.close()


@PROPS
@given(stored=stored_arrays(), data=st.data())
def test_scaled_reads_match_scaled_array(stored, data):
    arr, order = stored
    slope = data.draw(st.sampled_from([1.0, 2.5, -0.5]))
    inter = data.draw(st.sampled_from([0.0, 10.0, -3.25]))
    kind = data.draw(st.sampled_from(["raw", "gz", "bytesio"]))
    proxy = ArrayProxy(
        _storage(kind, _payload(arr, order, 16)),
        (arr.shape, arr.dtype, 16, slope, inter),
        order=order,
    )
    expected = arr.astype(np.complex128 if arr.dtype.kind == "c" else np.float64) * slope + inter
    if slope == 1 and inter == 0:
        expected = arr
    np.testing.assert_allclose(np.asarray(proxy), expected)
    np.testing.assert_array_equal(proxy.get_unscaled(), arr)
    idx = data.draw(indices(arr.shape))
    np.testing.assert_allclose(proxy[idx], expected[idx])
    as_f32 = np.asarray(proxy, dtype=np.complex64 if arr.dtype.kind == "c" else np.float32)
    np.testing.assert_allclose(as_f32, expected, rtol=1e-5, atol=1e-4)
    proxy.close()


@PROPS
@given(stored=stored_arrays(), data=st.data())
def test_full_read_matches_for_every_storage(stored, data):
    arr, order = stored
    kind = data.draw(st.sampled_from(["raw", "gz", "bz2", "bytesio", "gzip-bytesio"]))
    keep = data.draw(st.sampled_from([None, True, False]))
    proxy = ArrayProxy(
        _storage(kind, _payload(arr, order, 0)),
        (arr.shape, arr.dtype),
        mmap=False,
        order=order,
        keep_file_open=keep,
    )
    full = np.asarray(proxy)
    np.testing.assert_array_equal(full, arr)
    np.testing.assert_array_equal(np.asarray(proxy), arr)  # second read (kept file reused)
    proxy.close()

"""Scaled reads into float32 are rounded once: equal to the float64 result cast down."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from voxelio.proxy import ArrayProxy

SLOPE, INTER = 0.0123456789, 3.3


@pytest.fixture(params=["plain", "gzip"])
def scaled_file(tmp_path, request):
    rng = np.random.default_rng(5)
    values = rng.integers(-32768, 32767, size=(40, 30, 20, 3)).astype(np.int16)
    payload = b"\0" * 8 + values.tobytes(order="F")
    path = tmp_path / "scaled.bin"
    if request.param == "gzip":
        payload = gzip.compress(payload, compresslevel=1)
    path.write_bytes(payload)
    return str(path), values


@pytest.mark.parametrize("mmap", [True, False])
def test_float32_reads_equal_float64_rounded(scaled_file, mmap):
    path, values = scaled_file
    proxy = ArrayProxy(path, (values.shape, "<i2", 8, SLOPE, INTER), mmap=mmap)
    exact = values.astype(np.float64) * SLOPE + INTER
    naive = values.astype(np.float32) * np.float32(SLOPE) + np.float32(INTER)
    expected = exact.astype(np.float32)
    assert np.mean(naive != expected) > 0.01  # the double rounding this guards against
    full = np.asarray(proxy, dtype=np.float32)
    assert full.dtype == np.float32
    assert np.array_equal(full, expected)
    index = (slice(3, 30, 4), slice(None, None, -1), 5, slice(0, 2))
    assert np.array_equal(proxy.read(index, dtype=np.float32), expected[index])
    assert np.array_equal(proxy.read(index, dtype=np.complex64),
                          exact.astype(np.complex64)[index])


def test_get_fdata_float32_of_an_image(scaled_file):
    from voxelio_toy.image import ToyImage

    path, values = scaled_file
    proxy = ArrayProxy(path, (values.shape, "<i2", 8, SLOPE, INTER))
    img = ToyImage(proxy, np.eye(4))
    assert np.array_equal(img.get_fdata(dtype=np.float32),
                          img.get_fdata(caching="unchanged").astype(np.float32))


def test_large_reads_convert_in_bounded_blocks(tmp_path, monkeypatch):
    """More elements than one conversion block: every block is right, including the last."""
    import voxelio.proxy as proxy_module

    monkeypatch.setattr(proxy_module, "_DOUBLE_STEP", 1000)
    values = np.arange(12345, dtype=np.int16)
    path = tmp_path / "long.bin"
    path.write_bytes(values.tobytes())
    proxy = ArrayProxy(str(path), (values.shape, "<i2", 0, SLOPE, INTER))
    expected = (values * SLOPE + INTER).astype(np.float32)
    assert np.array_equal(np.asarray(proxy, dtype=np.float32), expected)

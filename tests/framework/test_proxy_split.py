"""Scaled reads of blocked gzip split across worker threads equal the serial result."""

from __future__ import annotations

import numpy as np
import pytest

from voxelio import codecs, proxy
from voxelio.proxy import ArrayProxy


@pytest.mark.parametrize("offset", [0, 3, 352, 4096])
@pytest.mark.parametrize("dtype", ["<i2", ">f4", "<f8", "u1"])
def test_split_scaled_read_matches(tmp_path, monkeypatch, offset, dtype):
    monkeypatch.setattr(proxy, "CHUNK_BYTES", 8192)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "3")
    rng = np.random.default_rng(7)
    data = (rng.random((23, 17, 11)) * 100).astype(dtype)
    path = tmp_path / "blocked.gz"
    with codecs.opened(path, "wb", "gzip", gzip_blocks=1000) as f:
        f.write(b"\x01" * offset)
        f.write(data.tobytes(order="F"))
    p = ArrayProxy(str(path), (data.shape, np.dtype(dtype), offset, 2.0, -1.5))
    expected = data.astype(np.float64) * 2.0 - 1.5
    np.testing.assert_array_equal(np.asarray(p), expected)
    np.testing.assert_array_equal(p.get_unscaled(), data)
    np.testing.assert_array_equal(p[:, 3:9, 2:], expected[:, 3:9, 2:])
    split32 = p.read((), np.float32)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "1")
    serial = ArrayProxy(str(path), (data.shape, np.dtype(dtype), offset, 2.0, -1.5))
    np.testing.assert_array_equal(split32, serial.read((), np.float32))


def test_truncated_blocked_file_raises_from_a_worker(tmp_path, monkeypatch):
    from voxelio.errors import ImageFileError

    monkeypatch.setattr(proxy, "CHUNK_BYTES", 4096)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    data = np.arange(20_000, dtype="<i2")
    path = tmp_path / "short.gz"
    with codecs.opened(path, "wb", "gzip", gzip_blocks=2048) as f:
        f.write(data.tobytes())
    p = ArrayProxy(str(path), ((30_000,), np.dtype("<i2"), 0, 2.0, 0.0))
    with pytest.raises(ImageFileError):
        np.asarray(p)

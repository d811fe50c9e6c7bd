"""ArrayProxy behaviour beyond value equality: laziness, errors, threads."""

from __future__ import annotations

import gzip
import io
import threading

import numpy as np
import pytest

from voxelio import is_proxy
from voxelio.errors import ImageFileError
from voxelio.proxy import ArrayProxy


def _write(path, arr, offset=0, order="F"):
    with open(path, "wb") as f:
        f.write(b"\0" * offset + arr.tobytes(order=order))
    return str(path)


def test_proxy_attributes(tmp_path):
    arr = np.arange(60, dtype="<i2").reshape((3, 4, 5))
    proxy = ArrayProxy(_write(tmp_path / "a", arr, 8), (arr.shape, arr.dtype, 8, 2.0, 1.0))
    assert is_proxy(proxy) and proxy.is_proxy
    assert proxy.shape == (3, 4, 5) and proxy.ndim == 3 and len(proxy) == 3
    assert proxy.offset == 8 and proxy.slope == 2.0 and proxy.inter == 1.0
    assert proxy.dtype == np.dtype("<i2")
    assert "ArrayProxy" in repr(proxy)
    assert not is_proxy(arr)


def test_unscaled_memmap_is_lazy_and_copy_on_write(tmp_path):
    arr = np.arange(24, dtype="f4").reshape((2, 3, 4))
    path = _write(tmp_path / "a", arr)
    proxy = ArrayProxy(path, (arr.shape, arr.dtype))
    mm = proxy.get_unscaled()
    assert isinstance(mm, np.memmap)
    assert isinstance(np.asarray(proxy).base, np.memmap)  # no copy for unscaled data
    mm[0, 0, 0] = 99  # copy-on-write: the file stays as it was
    assert np.asarray(ArrayProxy(path, (arr.shape, arr.dtype)))[0, 0, 0] == 0


def test_no_mmap_gives_plain_arrays(tmp_path):
    arr = np.arange(24, dtype="f4").reshape((2, 3, 4))
    proxy = ArrayProxy(_write(tmp_path / "a", arr), (arr.shape, arr.dtype), mmap=False)
    out = np.asarray(proxy)
    assert not isinstance(out, np.memmap)
    assert np.array_equal(out, arr)


def test_short_file_is_an_image_file_error(tmp_path):
    arr = np.arange(24, dtype="f4")
    path = _write(tmp_path / "a", arr[:10])
    for mmap in (True, False):
        proxy = ArrayProxy(path, (arr.shape, arr.dtype), mmap=mmap)
        with pytest.raises(ImageFileError, match="short|ends early"):
            np.asarray(proxy)


def test_truncated_gzip_is_an_image_file_error():
    arr = np.arange(4000, dtype="f8")
    blob = gzip.compress(arr.tobytes())[:-30]
    proxy = ArrayProxy(io.BytesIO(blob), (arr.shape, arr.dtype))
    with pytest.raises(ImageFileError):
        np.asarray(proxy)


def test_missing_file_is_named(tmp_path):
    proxy = ArrayProxy(str(tmp_path / "gone.img"), ((2,), "u1"))
    with pytest.raises(ImageFileError, match="gone.img"):
        np.asarray(proxy)


def test_fancy_indexing_works(tmp_path):
    arr = np.arange(60, dtype="i4").reshape((3, 4, 5))
    proxy = ArrayProxy(_write(tmp_path / "a", arr), (arr.shape, arr.dtype), mmap=False)
    assert np.array_equal(proxy[[0, 2]], arr[[0, 2]])
    assert np.array_equal(proxy[arr > 30], arr[arr > 30])
    with pytest.raises(IndexError):
        proxy[[7]]


def test_index_errors_follow_numpy(tmp_path):
    arr = np.zeros((2, 3), "u1")
    proxy = ArrayProxy(_write(tmp_path / "a", arr), (arr.shape, arr.dtype))
    with pytest.raises(IndexError):
        proxy[2]
    with pytest.raises(IndexError):
        proxy[0, 0, 0]
    with pytest.raises(IndexError):
        proxy[..., ...]


def test_reading_a_volume_reads_only_its_bytes(tmp_path):
    arr = np.arange(4 * 5 * 6 * 10, dtype="i2").reshape((4, 5, 6, 10))
    path = _write(tmp_path / "a", arr)

    class CountingFile(io.FileIO):
        bytes_read = 0

        def readinto(self, b):
            n = super().readinto(b)
            CountingFile.bytes_read += n or 0
            return n

    with CountingFile(path, "r") as f:
        proxy = ArrayProxy(f, (arr.shape, arr.dtype), mmap=False)
        vol = proxy[..., 7]
        assert np.array_equal(vol, arr[..., 7])
        assert CountingFile.bytes_read == vol.nbytes
        CountingFile.bytes_read = 0
        two = proxy[..., ::9]  # volumes 0 and 9: read apart, not everything between
        assert np.array_equal(two, arr[..., ::9])
        assert CountingFile.bytes_read == two.nbytes


def test_threads_read_consistently(tmp_path):
    arr = np.arange(8 * 8 * 8 * 16, dtype="f4").reshape((8, 8, 8, 16))
    blob = gzip.compress(arr.tobytes(order="F"))
    path = tmp_path / "a.gz"
    path.write_bytes(blob)
    proxy = ArrayProxy(str(path), (arr.shape, arr.dtype), keep_file_open=True)
    failures = []

    def work(t):
        for i in range(20):
            k = (t * 7 + i) % 16
            if not np.array_equal(proxy[..., k], arr[..., k]):
                failures.append((t, k))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    proxy.close()


def test_big_endian_values(tmp_path):
    arr = np.arange(10, dtype=">i4")
    proxy = ArrayProxy(_write(tmp_path / "a", arr), (arr.shape, arr.dtype), mmap=False)
    out = np.asarray(proxy)
    assert out.dtype.isnative and np.array_equal(out, arr)


def test_bad_arguments_are_rejected(tmp_path):
    with pytest.raises(ValueError):
        ArrayProxy("x", ((2,), "u1"), mmap="w+")
    with pytest.raises(ValueError):
        ArrayProxy("x", ((2,), "u1"), keep_file_open="auto")
    with pytest.raises(ValueError):
        ArrayProxy("x", ((2,),))


def test_header_claiming_more_than_the_file_holds_is_refused_before_allocating(tmp_path):
    path = tmp_path / "tiny.gz"
    import gzip as _gzip

    path.write_bytes(_gzip.compress(b"\0" * 100))
    huge = (32767, 32767, 32767, 100)
    for mmap in (True, False):
        proxy = ArrayProxy(str(path), (huge, "f8"), mmap=mmap)
        with pytest.raises(ImageFileError, match="claims"):
            np.asarray(proxy)
    raw = tmp_path / "tiny.raw"
    raw.write_bytes(b"\0" * 100)
    with pytest.raises(ImageFileError, match="short|claims"):
        np.asarray(ArrayProxy(str(raw), (huge, "f8"), mmap=False))
    with pytest.raises(ImageFileError, match="claims"):
        ArrayProxy(io.BytesIO(b"\0" * 100), (huge, "f8"))[0, 0, 0]


def test_proxies_pickle(tmp_path):
    import pickle

    arr = np.arange(24, dtype="i2").reshape((2, 3, 4))
    proxy = ArrayProxy(_write(tmp_path / "a", arr), (arr.shape, arr.dtype, 0, 2.0, 1.0))
    np.asarray(proxy)
    clone = pickle.loads(pickle.dumps(proxy))
    assert np.array_equal(np.asarray(clone), arr * 2.0 + 1.0)


def test_compressed_file_object_read_whatever_its_position():
    blob = gzip.compress(bytes(range(10)))
    f = io.BytesIO(blob)
    f.read()  # left at the end, as after reading a header through it
    assert list(np.asarray(ArrayProxy(f, ((10,), "u1", 0)))) == list(range(10))

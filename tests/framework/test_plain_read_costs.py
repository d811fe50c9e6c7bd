"""A full read of an uncompressed file by name, counted against np.fromfile's work.

np.fromfile opens the file once and reads the data once; the issue-7 row
(plain .nii read <= 1.2x np.fromfile) asks voxelio's proxy to do no more.
Speed itself is measured in benchmarks/.
"""

from __future__ import annotations

import gzip
import os
import threading

import numpy as np
import pytest

import voxelio
from voxelio.errors import ImageFileError


@pytest.fixture
def plain_nii(tmp_path):
    arr = np.arange(40 * 30 * 20, dtype=np.int16).reshape(40, 30, 20)
    path = tmp_path / "plain.nii"
    voxelio.save(voxelio.Nifti1Image(arr, np.eye(4)), path)
    np.asarray(voxelio.load(path, mmap=False).dataobj)  # first-use imports happen here
    return str(path), arr


@pytest.mark.parametrize("mmap", [False, True])
def test_a_full_read_opens_a_plain_file_once(plain_nii, calls_on, mmap):
    # the open that finds no compression is the one read through (or mapped);
    # it was opened a second time to look at its first bytes
    path, arr = plain_nii
    img = voxelio.load(path, mmap=mmap)
    opened = calls_on("open", path)
    np.testing.assert_array_equal(np.asarray(img.dataobj), arr)
    assert len(opened) == 1
    np.testing.assert_array_equal(np.asarray(img.dataobj), arr)  # later reads: one each
    assert len(opened) == 2


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux's /proc/self/io")
def test_a_full_read_reads_the_file_once(plain_nii):
    # bytes read by system calls while reading: the file's size, no byte twice
    path, arr = plain_nii
    img = voxelio.load(path, mmap=False)

    def read_so_far():
        with open("/proc/self/io") as fh:
            return int(next(line for line in fh if line.startswith("rchar")).split()[1])

    before = read_so_far()
    out = np.asarray(img.dataobj)
    after = read_so_far()
    np.testing.assert_array_equal(out, arr)
    # (the slack is the text of /proc/self/io itself; a second look at the
    # file's first bytes would read 8 KiB more)
    assert after - before <= os.path.getsize(path) + 1024


def test_a_plain_name_holding_gzip_is_still_read_through_its_codec(tmp_path):
    arr = np.arange(6 * 5 * 4, dtype=np.float32).reshape(6, 5, 4)
    packed = tmp_path / "packed.nii.gz"
    voxelio.save(voxelio.Nifti1Image(arr, np.eye(4)), packed)
    misnamed = tmp_path / "misnamed.nii"
    misnamed.write_bytes(gzip.decompress(packed.read_bytes()))
    raw = misnamed.read_bytes()
    misnamed.write_bytes(gzip.compress(raw))  # one plain gzip stream under a plain name
    for mmap in (False, True):
        img = voxelio.load(misnamed, mmap=mmap)
        assert img.dataobj.compression == "gzip"
        np.testing.assert_array_equal(img.get_fdata(), arr)


def test_a_file_cut_short_after_loading_is_refused_in_voxelio_words(plain_nii):
    path, _ = plain_nii
    img = voxelio.load(path, mmap=False)
    with open(path, "r+b") as fh:
        fh.truncate(os.path.getsize(path) // 2)
    with pytest.raises(ImageFileError):
        np.asarray(img.dataobj)


@pytest.fixture
def split_small_reads(monkeypatch):
    """Reads of 16 KiB or more split, on 4 KiB boundaries, over 2 codec threads."""
    from voxelio import _rangeread, proxy

    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    monkeypatch.setattr(proxy, "PARALLEL_MIN", 1 << 14)
    monkeypatch.setattr(_rangeread, "PART_ALIGN", 4096)
    calls = []
    real = os.preadv

    def spy(fd, buffers, offset, *args):
        calls.append((threading.current_thread().name, offset, sum(len(b) for b in buffers)))
        return real(fd, buffers, offset, *args)

    monkeypatch.setattr(os, "preadv", spy)
    return calls


needs_preadv = pytest.mark.skipif(not hasattr(os, "preadv"), reason="no os.preadv here")


@needs_preadv
def test_a_large_plain_read_is_split_over_the_codec_threads(plain_nii, split_small_reads):
    path, arr = plain_nii
    img = voxelio.load(path, mmap=False)
    np.testing.assert_array_equal(np.asarray(img.dataobj), arr)
    calls = split_small_reads
    assert len(calls) == 2
    assert all(name.startswith("voxelio-codec") for name, _, _ in calls)
    # the parts cover the data once, end to end
    offset = img.dataobj.offset
    spans = sorted((start, start + n) for _, start, n in calls)
    assert spans[0][0] == offset and spans[-1][1] == offset + arr.nbytes
    assert spans[0][1] == spans[1][0]


@needs_preadv
def test_one_codec_thread_reads_in_one_piece(plain_nii, split_small_reads, monkeypatch):
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "1")
    path, arr = plain_nii
    np.testing.assert_array_equal(np.asarray(voxelio.load(path, mmap=False).dataobj), arr)
    assert split_small_reads == []


@needs_preadv
def test_a_split_read_swaps_big_endian_values(tmp_path, split_small_reads):
    from voxelio.proxy import ArrayProxy

    values = np.arange(200 * 300, dtype=np.int32).reshape(200, 300) * 7 - 5
    path = tmp_path / "raw.bin"
    path.write_bytes(b"\x01" * 100 + values.astype(">i4").tobytes(order="F"))
    proxy = ArrayProxy(str(path), ((200, 300), ">i4", 100), mmap=False)
    np.testing.assert_array_equal(np.asarray(proxy), values)
    assert len(split_small_reads) == 2


@needs_preadv
def test_a_split_read_that_finds_the_file_short_says_so(tmp_path):
    # (a file cut short while being read: the load-time checks cannot see it)
    from voxelio import _rangeread
    from voxelio.codecs import backends

    path = tmp_path / "short.bin"
    path.write_bytes(bytes(range(256)) * 64)  # 16 KiB
    buf = np.zeros(6 * 4096, dtype=np.uint8)
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(ImageFileError, match="ends early"):
            _rangeread.readinto_parallel(fd, 0, buf, "'short.bin'", backends.thread_pool(), 3)
    finally:
        os.close(fd)



@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_large_mapped_conversion_runs_in_parts_on_the_codec_threads(
    tmp_path, monkeypatch, dtype
):
    from voxelio import proxy

    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    monkeypatch.setattr(proxy, "PARALLEL_MIN", 1 << 14)
    monkeypatch.setattr(proxy, "CHUNK_BYTES", 1 << 14)  # parts of 4 KiB of stored values
    stored = np.arange(60 * 50 * 8, dtype=np.int16).reshape(60, 50, 8) - 9000
    path = tmp_path / "scaled.nii"
    img = voxelio.Nifti1Image(stored, np.eye(4))
    img.header.set_slope_inter(0.37, -12.5)
    voxelio.save(img, path)
    threads = []
    real = proxy._scale_into

    def spy(raw, *args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(raw, *args, **kwargs)

    monkeypatch.setattr(proxy, "_scale_into", spy)
    loaded = voxelio.load(path)
    got = loaded.get_fdata(dtype=dtype)
    slope, inter = loaded.dataobj.slope, loaded.dataobj.inter  # as the header stores them
    expect = (stored.astype(np.float64) * slope + inter).astype(dtype)  # rounded once
    np.testing.assert_array_equal(got, expect)
    assert len(threads) == stored.nbytes // 4096 + (stored.nbytes % 4096 > 0)
    assert all(name.startswith("voxelio-codec") for name in threads)

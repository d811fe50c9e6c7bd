"""Full reads of a single compressed stream convert piece by piece on the codec
threads while the next piece is inflated: the values equal a conversion of the
whole stored array at once, whatever the piece boundaries, and the buffers stay
a few pieces large."""

from __future__ import annotations

import gzip
import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxelio import _pipeline, codecs, proxy
from voxelio.codecs import backends
from voxelio.errors import ImageFileError
from voxelio.proxy import ArrayProxy

STORED = ["<i2", ">i2", "u1", "<f4", ">f4", "<i4", "<u2", "<f8"]


def _gzip_file(tmp_path, data: np.ndarray, offset: int, name: str = "one.gz") -> str:
    path = tmp_path / name
    # one gzip stream, as NiBabel and most tools write (not voxelio's blocked gzip)
    path.write_bytes(gzip.compress(b"\x07" * offset + data.tobytes(order="F"), mtime=0))
    return str(path)


def _expected(data: np.ndarray, slope: float, inter: float, dtype: np.dtype) -> np.ndarray:
    """Scaled values computed in float64 over the whole array, rounded once to ``dtype``."""
    wide = data.astype(np.float64)
    if slope != 1 or inter != 0:
        wide = wide * slope + inter
    return wide.astype(dtype)


@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces and the pipelining threshold small enough for test-sized arrays."""
    monkeypatch.setattr(proxy, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(_pipeline, "PIECE_BYTES", 1000)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.lists(st.integers(1, 23), min_size=1, max_size=4).map(tuple),
    stored=st.sampled_from(STORED),
    scaling=st.sampled_from([(1.0, 0.0), (2.0, 0.0), (1.0, -3.25), (0.37, 12.5)]),
    out=st.sampled_from(["float64", "float32"]),
    offset=st.sampled_from([0, 3, 352]),
    piece=st.integers(1, 5000),
    seed=st.integers(0, 2**16),
)
def test_pipelined_read_equals_the_whole_conversion(
    tmp_path, small_pieces, monkeypatch, shape, stored, scaling, out, offset, piece, seed
):
    monkeypatch.setattr(_pipeline, "PIECE_BYTES", piece)
    rng = np.random.default_rng(seed)
    data = (rng.random(shape) * 200 - (0 if stored[-2] == "u" else 100)).astype(stored)
    path = _gzip_file(tmp_path, data, offset)
    slope, inter = scaling
    got = ArrayProxy(path, (shape, np.dtype(stored), offset, slope, inter)).read((), out)
    np.testing.assert_array_equal(got, _expected(data, slope, inter, np.dtype(out)))
    assert got.dtype == np.dtype(out) and got.flags.f_contiguous


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_pipelined_equals_one_thread_and_numpy_for_scaled_int16(tmp_path, small_pieces,
                                                                monkeypatch, threads):
    """np.asarray of scaled data and get_fdata-like reads, any thread count."""
    monkeypatch.setenv("VOXELIO_NUM_THREADS", threads)
    data = np.arange(-6000, 6005, 7, dtype="<i2").reshape((7, 245), order="F")
    path = _gzip_file(tmp_path, data, 352)
    p = ArrayProxy(path, (data.shape, np.dtype("<i2"), 352, 0.5, 100.0))
    np.testing.assert_array_equal(np.asarray(p), data * 0.5 + 100.0)
    np.testing.assert_array_equal(p.read((), np.float32), (data * 0.5 + 100.0).astype("f4"))
    np.testing.assert_array_equal(p.get_unscaled(), data)


def test_conversions_run_on_the_codec_threads_in_small_pieces(tmp_path, small_pieces,
                                                              monkeypatch):
    data = np.arange(50_000, dtype="<i2")
    path = _gzip_file(tmp_path, data, 0)
    calls: list[tuple[str, int]] = []
    real = proxy._scale_into

    def spy(raw, dtype, slope, inter, out=None):
        calls.append((threading.current_thread().name, raw.size))
        return real(raw, dtype, slope, inter, out=out)

    monkeypatch.setattr(proxy, "_scale_into", spy)
    got = ArrayProxy(path, ((50_000,), np.dtype("<i2"))).read((), np.float64)
    np.testing.assert_array_equal(got, data.astype(np.float64))
    assert len(calls) == -(-50_000 // 500)  # pieces of 1000 stored bytes
    assert all(size <= 500 for _, size in calls)
    assert all(name != threading.main_thread().name for name, _ in calls)


def test_a_pipelined_read_allocates_a_few_pieces_beyond_its_output(tmp_path, monkeypatch):
    """The read's own buffers are BUFFERS pieces, not a fraction of the array."""
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    data = np.random.default_rng(1).integers(0, 4000, 4_000_000, dtype="<i2")
    path = _gzip_file(tmp_path, data, 352)
    p = ArrayProxy(path, ((data.size,), np.dtype("<i2"), 352))
    p.read((slice(0, 10),), np.float64)  # opened, codec threads started: not counted
    output = data.size * 8
    tracemalloc.start()
    try:
        got = p.read((), np.float64)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(got, data.astype(np.float64))
    assert peak >= output  # numpy's allocations are traced
    extra = peak - output
    # 3 pieces of stored values, plus the codec's compressed input and scratch
    assert extra <= _pipeline.BUFFERS * _pipeline.PIECE_BYTES + (2 << 20), extra


def test_a_truncated_stream_fails_cleanly_and_the_reader_reads_on(tmp_path, small_pieces):
    data = np.arange(20_000, dtype="<i2")
    raw = gzip.compress(data.tobytes(), mtime=0)
    path = tmp_path / "short.gz"
    path.write_bytes(raw[: len(raw) // 2])
    p = ArrayProxy(str(path), ((20_000,), np.dtype("<i2"), 0, 2.0, 0.0))
    with pytest.raises(ImageFileError):
        np.asarray(p)
    with pytest.raises(ImageFileError):  # again: nothing left waiting or half-done
        np.asarray(p)
    np.testing.assert_array_equal(p[:100], data[:100] * 2.0)


# -- the hint that lets small pieces use the fast full-stream inflater --------------------
BIG = 64 * 1024  # the FAST_READ_MIN fast_readers_made sets (tests/conftest.py)


@pytest.fixture
def readers_made(fast_readers_made):
    """ISA-L gzip readers made (the fast pass from the start), with a small FAST_READ_MIN."""
    if backends._gzip_reader_class() is None:
        pytest.skip("ISA-L's gzip reader is not installed")  # the default install has it
    return fast_readers_made


def _pieces(reader, start: int, end: int, step: int) -> bytes:
    offsets = range(start, end, step)
    return b"".join(reader.read_range(off, min(step, end - off)) for off in offsets)


def test_expect_read_makes_small_pieces_one_fast_pass(tmp_path, readers_made):
    data = np.random.default_rng(3).integers(0, 50, 700_000, dtype=np.uint8).tobytes()
    path = tmp_path / "s.gz"
    path.write_bytes(gzip.compress(data, mtime=0))
    with codecs.open_indexed(str(path)) as reader:
        reader.expect_read(300, len(data) - 300)
        assert _pieces(reader, 300, len(data), BIG // 8) == data[300:]
        assert len(readers_made) == 1  # one ISA-L pass, continued piece after piece
        assert reader._source.inflated <= len(data) + BIG
        # the hint ended with the read that reached its end: a small read behind
        # it goes back to the ordinary pass (seek points), not a new fast pass
        assert reader.read_range(1000, 100) == data[1000:1100]
        assert len(readers_made) == 1


def test_without_the_hint_small_pieces_take_the_ordinary_pass(tmp_path, readers_made):
    data = np.random.default_rng(3).integers(0, 50, 300_000, dtype=np.uint8).tobytes()
    path = tmp_path / "s.gz"
    path.write_bytes(gzip.compress(data, mtime=0))
    with codecs.open_indexed(str(path)) as reader:
        assert _pieces(reader, 300, len(data), BIG // 8) == data[300:]
        assert readers_made == []


def test_a_withdrawn_hint_is_forgotten(tmp_path, readers_made):
    data = np.random.default_rng(4).integers(0, 50, 300_000, dtype=np.uint8).tobytes()
    path = tmp_path / "s.gz"
    path.write_bytes(gzip.compress(data, mtime=0))
    with codecs.open_indexed(str(path)) as reader:
        reader.expect_read(0, len(data))
        reader.expect_read(0, 0)
        assert reader.read_range(500, 1000) == data[500:1500]
        assert readers_made == []


def test_the_hint_is_ignored_by_sources_that_need_none(tmp_path):
    data = bytes(range(256)) * 100
    path = tmp_path / "plain.bin"
    path.write_bytes(data)
    with codecs.open_indexed(str(path)) as reader:
        reader.expect_read(0, len(data))
        assert reader.read_range(10, 20) == data[10:30]


def test_without_codec_threads_pieces_are_the_large_serial_chunks(tmp_path, small_pieces,
                                                                  monkeypatch):
    """Nothing overlaps on one thread: fewer, larger reads (a remote file: fewer requests)."""
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "1")
    data = np.arange(50_000, dtype="<i2")
    path = _gzip_file(tmp_path, data, 0)
    sizes: list[int] = []
    real = proxy._scale_into

    def spy(raw, dtype, slope, inter, out=None):
        sizes.append(raw.size)
        return real(raw, dtype, slope, inter, out=out)

    monkeypatch.setattr(proxy, "_scale_into", spy)
    got = ArrayProxy(path, ((50_000,), np.dtype("<i2"))).read((), np.float64)
    np.testing.assert_array_equal(got, data.astype(np.float64))
    assert sizes[0] == 4096 // 2 and len(sizes) == -(-50_000 // 2048)  # proxy.CHUNK_BYTES

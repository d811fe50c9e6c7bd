"""The indexing pass of single gzip streams beside the reads: a far read served by ISA-L
while zlib-ng indexes on another core, reads ahead of a late indexing pass, threads,
memory, bad streams."""

from __future__ import annotations

import gzip
import os
import struct
import sys
import threading
import tracemalloc
import zlib

import pytest
from codec_helpers import HeldIndexer, smooth_noise
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxelio import codecs
from voxelio.codecs import backends, seek_index
from voxelio.errors import ImageFileError

DATA = smooth_noise(2_000_000, seed=23)
SPACING = 32 * 1024

needs_isal = pytest.mark.skipif(not backends.has_fast_gzip(), reason="isal is not installed")


@pytest.fixture
def single(tmp_path, monkeypatch):
    monkeypatch.setattr(seek_index, "MIN_SPACING", SPACING)
    monkeypatch.setattr(seek_index, "MAX_SPACING", SPACING)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    path = tmp_path / "single.gz"
    path.write_bytes(gzip.compress(DATA, compresslevel=6, mtime=0))
    return str(path)


def _cost(reader, offset, n):
    source = reader._source
    before = source.inflated
    got = reader.read_range(offset, n)
    return got, source.inflated - before


def _gaps(source):
    return [b - a for a, b in zip(source._cp_u, source._cp_u[1:], strict=False)]


@needs_isal
def test_a_far_read_is_served_by_isal_while_the_index_is_built(single):
    with codecs.open_indexed(single) as r:
        assert r.read(352) == DATA[:352]
        assert r.read_range(1_500_000, 5000) == DATA[1_500_000:1_505_000]
        source = r._source
        assert source._state.fast  # ISA-L served it
        assert source._indexer is not None
        source._indexer.join()
        assert source.size == len(DATA)
        assert max(_gaps(source)) <= SPACING
        assert source._ahead.nbytes == 0  # let go once the index got there
        for offset in (1_999_000, 7, 900_000, 1_505_000, 400_001):
            got, cost = _cost(r, offset, 3000)
            assert got == DATA[offset : offset + 3000]
            assert cost < SPACING + 3000


@needs_isal
def test_reads_just_behind_an_isal_pass_find_its_bytes_kept(single, monkeypatch):
    held = HeldIndexer(monkeypatch)
    with codecs.open_indexed(single) as r:
        assert r.read_range(1_800_000, 4000) == DATA[1_800_000:1_804_000]
        assert held.started.wait(30)
        # Kept: what the indexing pass would not have reached by the end of the
        # ISA-L pass at its usual speed (the last third here); the (held) pass
        # has not moved, yet these reads inflate nothing but bytes past the ISA-L pass
        speedup = backends.fast_gzip_speedup()
        kept_from = int(1_800_000 / speedup) + 1
        for offset in (kept_from + 50_000, 1_799_000, 1_804_000, kept_from + 1000):
            got, cost = _cost(r, offset, 4000)
            assert got == DATA[offset : offset + 4000]
            assert cost <= 4000  # only bytes past the ISA-L pass, from its kept decompressor
        assert r._source._ahead.nbytes <= 1_804_000 - kept_from + (1 << 20)
        # before that, a read does not wait for the held pass: it inflates itself
        got, cost = _cost(r, 100_000, 4000)
        assert got == DATA[100_000:104_000]
        held.release.set()
        r._source._indexer.join()
        assert r._source._ahead.nbytes == 0


def test_the_indexing_pass_skips_what_a_read_indexed_ahead_of_it(single, monkeypatch):
    # no ISA-L: the reads' own passes leave the seek points
    monkeypatch.setattr(backends, "fast_gzip_speedup", lambda: None)
    held = HeldIndexer(monkeypatch)
    with codecs.open_indexed(single) as r:
        assert r.read_range(200_000, 1000) == DATA[200_000:201_000]
        assert held.started.wait(30)
        # far ahead of the (held) indexing pass: the read inflates from its own state
        got, cost = _cost(r, 1_700_000, 1000)
        assert got == DATA[1_700_000:1_701_000]
        assert cost <= 1_700_000 - 201_000 + 1000
        held.release.set()
        source = r._source
        source._indexer.join()
        assert max(_gaps(source)) <= SPACING
    # no byte inflated by both: the pass did 200 kB..1.7 MB only as far as the read
    # left it, plus what lies beyond the read
    assert held.bytes <= len(DATA) - (1_701_000 - 201_000) + 2 * SPACING


def test_a_read_never_waits_for_a_late_indexing_pass(single, monkeypatch):
    held = HeldIndexer(monkeypatch)  # never released before the reads
    with codecs.open_indexed(single) as r:
        assert r.read_range(300_000, 2000) == DATA[300_000:302_000]
        assert held.started.wait(30)
        for offset in (1_900_000, 600_000, 1_200_000, 5):
            assert r.read_range(offset, 2000) == DATA[offset : offset + 2000]
        held.release.set()


def test_two_threads_read_while_the_index_is_built(single):
    errors: list[BaseException] = []
    offsets = [(k * 7919 * 61) % (len(DATA) - 5000) for k in range(40)]

    def read_some(reader, share):
        try:
            for offset in share:
                assert reader.read_range(offset, 5000) == DATA[offset : offset + 5000]
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    with codecs.open_indexed(single) as r:
        threads = [threading.Thread(target=read_some, args=(r, offsets[i::2])) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
            assert not t.is_alive(), "a reader hung"
        assert not errors, errors
        if r._source._indexer is not None:
            r._source._indexer.join(60)
            assert not r._source._indexer.is_alive()


_SETTINGS = settings(max_examples=30, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
reads = st.lists(st.tuples(st.integers(0, len(DATA) - 1), st.integers(1, 40_000)),
                 min_size=1, max_size=10)


@_SETTINGS
@given(plan=reads, held_for=st.integers(0, 10))
def test_random_reads_with_an_indexing_pass_late_by_some_reads(single, monkeypatch, plan,
                                                                held_for):
    with monkeypatch.context() as patch:
        held = HeldIndexer(patch)
        with codecs.open_indexed(single) as r:
            for i, (offset, n) in enumerate(plan):
                if i == held_for:
                    held.release.set()
                assert r.read_range(offset, n) == DATA[offset : offset + n]
            held.release.set()


@needs_isal
def test_memory_of_a_far_read_and_its_index_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(seek_index, "MIN_SPACING", 256 << 10)
    monkeypatch.setattr(seek_index, "MAX_SPACING", 256 << 10)
    monkeypatch.setattr(seek_index, "MAX_POINTS", 16)
    monkeypatch.setattr(seek_index, "AHEAD_MAX", 1 << 20)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    held = HeldIndexer(monkeypatch)
    data = smooth_noise(24 << 20, seed=4)
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(data, compresslevel=1, mtime=0))
    with codecs.open_indexed(str(path)) as r:
        tracemalloc.start()
        try:
            assert r.read_range(23 << 20, 1000) == data[23 << 20 : (23 << 20) + 1000]
            kept_peak = tracemalloc.get_traced_memory()[1]
            held.release.set()
            source = r._source
            source._indexer.join()
            index_now, index_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(source._cp_u) <= 16  # the spacing doubled past MAX_POINTS
        assert max(_gaps(source)) <= source.spacing
    # 23 MiB went through ISA-L: kept were about AHEAD_MAX plus a chunk or two
    assert kept_peak < (1 << 20) + (4 << 20)
    # the index: at most MAX_POINTS inflater copies (~45 KB each) plus transient buffers
    assert index_now < 16 * 80_000 + (1 << 20)
    assert index_peak < (1 << 20) + (4 << 20) + 16 * 80_000


def test_truncated_stream_gives_image_file_errors_and_no_hang(tmp_path, monkeypatch):
    monkeypatch.setattr(seek_index, "MIN_SPACING", SPACING)
    monkeypatch.setattr(seek_index, "MAX_SPACING", SPACING)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    raw = gzip.compress(DATA, compresslevel=6, mtime=0)
    path = tmp_path / "cut.gz"
    path.write_bytes(raw[: len(raw) * 2 // 3])
    with codecs.open_indexed(str(path)) as r:
        assert r.read_range(100_000, 1000) == DATA[100_000:101_000]
        with pytest.raises(ImageFileError, match="truncated"):
            r.read_range(1_900_000, 1000)
        with pytest.raises(ImageFileError, match="truncated"):
            r.read_range(1_950_000, 1000)
        assert r.read_range(50_000, 1000) == DATA[50_000:51_000]
        indexer = r._source._indexer
    if indexer is not None:  # close does not wait for it: it ends at its next step
        indexer.join(30)
        assert not indexer.is_alive()


def _gzip_with_a_bad_block_at(data: bytes, at: int) -> bytes:
    """A gzip stream of ``data`` whose deflate blocks are broken at byte ``at`` of the
    output: a block of the reserved type 3 sits there (the decoder must reject it)."""
    head = gzip.compress(b"", mtime=0)[:10]
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = deflate.compress(data[:at]) + deflate.flush(zlib.Z_FULL_FLUSH)  # byte-aligned end
    body += bytes([0b110])  # BFINAL 0, BTYPE 11 (reserved)
    body += deflate.compress(data[at:]) + deflate.flush()
    return head + body + struct.pack("<II", zlib.crc32(data), len(data))


def test_corrupt_stream_gives_image_file_errors_and_no_hang(tmp_path, monkeypatch):
    monkeypatch.setattr(seek_index, "MIN_SPACING", SPACING)
    monkeypatch.setattr(seek_index, "MAX_SPACING", SPACING)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    path = tmp_path / "bad.gz"
    path.write_bytes(_gzip_with_a_bad_block_at(DATA, 1_000_000))
    with codecs.open_indexed(str(path)) as r:
        assert r.read_range(10_000, 1000) == DATA[10_000:11_000]
        for offset in (1_900_000, 1_950_000, 1_000_000):
            with pytest.raises(ImageFileError, match="corrupt"):
                r.read_range(offset, 1000)
        assert r.read_range(20_000, 1000) == DATA[20_000:21_000]
        assert r.read_range(300_000, 10_000) == DATA[300_000:310_000]
        indexer = r._source._indexer
    if indexer is not None:  # close does not wait for it: it ends at its next step
        indexer.join(30)
        assert not indexer.is_alive()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads have no niceness")
def test_the_indexing_thread_yields_to_reads_on_a_busy_machine():
    seen = {}

    def body():
        seek_index._lower_priority_of_this_thread()
        tid = threading.get_native_id()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, tid)

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen["nice"] == min(19, before + seek_index.INDEXER_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


@needs_isal
def test_after_the_first_jump_reads_ahead_of_a_late_pass_leave_seek_points(single, monkeypatch):
    held = HeldIndexer(monkeypatch)
    with codecs.open_indexed(single) as r:
        assert r.read_range(1_900_000, 1000) == DATA[1_900_000:1_901_000]
        assert held.started.wait(30)
        source = r._source
        assert source._state.fast
        points = len(source._cp_u)
        # far from any seek point and behind the ISA-L pass: not ISA-L from the start
        # again (it would leave no seek points), but a pass that leaves them
        assert r.read_range(1_000_000, 1000) == DATA[1_000_000:1_001_000]
        assert not source._state.fast
        assert len(source._cp_u) > points + 10
        got, cost = _cost(r, 700_000, 1000)
        assert got == DATA[700_000:701_000] and cost < SPACING + 1000
        held.release.set()

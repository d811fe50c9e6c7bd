"""A pass to the end of a single gzip stream inflates it whole into one buffer, which
reads copy from and a large read takes over (voxelio.codecs.held)."""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zlib

import numpy as np
import pytest
from codec_helpers import DAMAGE_WORDS, damaged_gzip, smooth_noise

from voxelio import codecs
from voxelio.codecs import backends, gzip_reader, seek_index
from voxelio.errors import ImageFileError

DATA = smooth_noise(3_000_000, seed=11)


def _file(tmp_path, raw: bytes, name: str = "s.gz") -> str:
    path = tmp_path / name
    path.write_bytes(raw)
    return str(path)


def _size_then(reader) -> int:
    """Learn the size as a format reading a footer does: a seek relative to the end."""
    return reader.seek(0, 2)


def test_the_pass_to_the_end_holds_the_stream_and_serves_reads(tmp_path, backend):
    with codecs.open_indexed(_file(tmp_path, gzip.compress(DATA, mtime=0))) as reader:
        assert _size_then(reader) == len(DATA)
        source = reader._source
        assert source._held is not None and source._held.filled == len(DATA)
        assert source._window.nbytes == 0  # nothing kept twice
        before = source.inflated
        assert reader.read_range(len(DATA) - 20, 100) == DATA[-20:]  # a footer
        assert reader.read_range(123, 500_000) == DATA[123:500_123]
        assert reader.read_range(len(DATA), 10) == b""  # at the end: nothing, no pass
        assert source.inflated == before  # all served from the held buffer


def test_a_large_read_takes_the_buffer_without_a_copy(tmp_path, backend):
    with codecs.open_indexed(_file(tmp_path, gzip.compress(DATA, mtime=0))) as reader:
        # the public reader type, whose take_range the API reference documents
        assert isinstance(reader, codecs.IndexedReader)
        _size_then(reader)
        tracemalloc.start()
        try:
            part = reader.take_range(100, len(DATA) - 200, align=4)
            allocated = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert allocated < 64 * 1024  # a view of the buffer, not a copy
        assert isinstance(part, np.ndarray) and part.dtype == np.uint8 and part.flags.writeable
        assert part.tobytes() == DATA[100:-100]
        assert reader._source._held is None  # handed over: the reader holds it no more
        part[:] = 0  # the caller's own: later reads do not see it
        assert reader.read_range(1000, 50) == DATA[1000:1050]
        assert reader.take_range(100, 1000) is None


def test_load_then_take_peak_memory_is_the_data_once(tmp_path, backend):
    path = _file(tmp_path, gzip.compress(DATA, mtime=0))
    tracemalloc.start()
    try:
        with codecs.open_indexed(path) as reader:
            _size_then(reader)
            part = reader.take_range(0, len(DATA))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert part.tobytes() == DATA
    # the decompressed bytes once, plus the compressed input buffer and small change;
    # the standard library's pass also leaves seek points (a zlib state each)
    allowance = gzip_reader.INPUT_BUFFER + 512 * 1024
    if backend == "stdlib":
        allowance += len(DATA) // seek_index.MIN_SPACING * 80_000
    assert peak < len(DATA) + allowance


@pytest.mark.parametrize(("offset", "nbytes", "align"), [
    (3, 2_000_000, 4),  # address not a multiple of the item size
    (0, 1_000_000, 1),  # less than half of what is held
    (2_999_000, 2000, 1),  # beyond what is held
])
def test_what_cannot_be_taken_is_left_to_copying_reads(tmp_path, backend, offset, nbytes, align):
    with codecs.open_indexed(_file(tmp_path, gzip.compress(DATA, mtime=0))) as reader:
        _size_then(reader)
        assert reader.take_range(offset, nbytes, align=align) is None
        assert reader._source._held is not None
        assert reader.read_range(offset, nbytes) == DATA[offset : offset + nbytes]


def test_several_members_more_than_the_last_states(tmp_path, backend):
    # the trailer states only the last member's size: the rest goes on past the buffer
    raw = gzip.compress(DATA[:2_000_000], mtime=0) + gzip.compress(DATA[2_000_000:], mtime=0)
    with codecs.open_indexed(_file(tmp_path, raw)) as reader:
        assert _size_then(reader) == len(DATA)
        source = reader._source
        assert source._held.filled == len(DATA) - 2_000_000
        assert reader.read_range(900_000, 200_000) == DATA[900_000:1_100_000]  # across both
        assert reader.read_range(0, len(DATA)) == DATA


@pytest.mark.parametrize("tail", [bytes(64), b"junk\xff\xff\x00\x00"])
def test_bytes_after_the_stream_end_it_as_everywhere(tmp_path, backend, tail):
    # zeros state a size of 0 (not held); junk a false size the pass does not trust
    with codecs.open_indexed(_file(tmp_path, gzip.compress(DATA, mtime=0) + tail)) as reader:
        assert _size_then(reader) == len(DATA)
        assert reader.read_range(0, len(DATA) + 10) == DATA


def test_a_stream_stating_more_than_the_bound_keeps_only_its_end(tmp_path, backend, monkeypatch):
    monkeypatch.setattr(seek_index, "HOLD_MAX", len(DATA) - 1)
    with codecs.open_indexed(_file(tmp_path, gzip.compress(DATA, mtime=0))) as reader:
        assert _size_then(reader) == len(DATA)
        assert reader._source._held is None
        assert reader.take_range(0, len(DATA)) is None
        assert reader.read_range(0, len(DATA)) == DATA


def test_a_read_up_to_the_kept_end_inflates_only_what_lies_before_it(
    tmp_path, backend, monkeypatch
):
    # too large to hold whole, the stream's last WINDOW_MAX bytes are kept by the
    # pass that found its size: a whole read copies them instead of inflating them again
    monkeypatch.setattr(seek_index, "HOLD_MAX", len(DATA) - 1)
    monkeypatch.setattr(seek_index, "WINDOW_MAX", 1_000_000)
    with codecs.open_indexed(_file(tmp_path, gzip.compress(DATA, mtime=0))) as reader:
        assert _size_then(reader) == len(DATA)
        source = reader._source
        kept_from = source._window.start
        assert kept_from is not None and kept_from <= len(DATA) - 1_000_000
        before = source.inflated
        assert reader.read_range(7, len(DATA) - 7) == DATA[7:]
        assert source.inflated - before <= kept_from + (256 << 10)  # (was the whole stream)
        assert reader.read_range(kept_from - 10, 20) == DATA[kept_from - 10 : kept_from + 10]


def test_release_cache_lets_the_buffer_go(tmp_path, backend):
    with codecs.open_indexed(_file(tmp_path, gzip.compress(DATA, mtime=0))) as reader:
        _size_then(reader)
        reader.release_cache()
        assert reader._source._held is None
        assert reader.read_range(5, 100) == DATA[5:105]


@pytest.mark.parametrize("damage", ["truncate", "corrupt", "crc"])
def test_bad_streams_raise_voxelio_errors(tmp_path, backend, damage):
    raw = damaged_gzip(gzip.compress(DATA, mtime=0), damage, keep_trailer=True)
    with codecs.open_indexed(_file(tmp_path, raw)) as reader, pytest.raises(
        ImageFileError, match=DAMAGE_WORDS[damage]
    ):
        _size_then(reader)


def test_the_fast_pass_inflates_straight_into_the_buffer(tmp_path, monkeypatch):
    monkeypatch.delenv("VOXELIO_STDLIB_CODECS", raising=False)
    if backends._gzip_reader_class() is None:
        pytest.skip("ISA-L's gzip reader is not installed")  # the default install has it
    filled: list[int] = []
    real = gzip_reader.fill

    def spy(reader, out):
        got = real(reader, out)
        filled.append(got)
        return got

    monkeypatch.setattr(gzip_reader, "fill", spy)
    produced: list[int] = []
    real_produce = seek_index.StreamSource._produce

    def counting(self, st, max_out):
        chunk = real_produce(self, st, max_out)
        produced.append(len(chunk))
        return chunk

    monkeypatch.setattr(seek_index.StreamSource, "_produce", counting)
    with codecs.open_indexed(_file(tmp_path, gzip.compress(DATA, mtime=0))) as reader:
        _size_then(reader)
    assert filled == [len(DATA)]  # one call filled the whole buffer
    assert sum(produced) == 0  # no chunk inflated by the ordinary pass


@pytest.mark.parametrize("junk_mib", [40, 120])  # held whole / too large to hold
def test_keep_below_bounds_what_a_pass_to_the_end_keeps(junk_mib):
    head = bytes(range(256)) * 40
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    parts = [comp.compress(head)]
    parts += [comp.compress(bytes(1 << 20)) for _ in range(junk_mib)]
    raw = b"".join(parts) + comp.flush()
    with codecs.open_indexed(io.BytesIO(raw)) as r:
        r.keep_below(len(head) + 100)
        assert r.seek(0, io.SEEK_END) == len(head) + (junk_mib << 20)  # the size, all inflated
        source = r._source
        held = source._held
        kept = source._window.nbytes + (0 if held is None else held.filled)
        assert kept <= len(head) + 100  # was all of it (<= HOLD_MAX) or WINDOW_MAX of zeros
        assert r.read_range(0, len(head)) == head
        assert r.read_range((junk_mib << 20) + len(head) - 10, 100) == bytes(10)
    assert seek_index.WINDOW_MAX >= 40 << 20

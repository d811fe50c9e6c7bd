"""Large reads from the start of a single gzip stream go through ISA-L's gzip reader,
which inflates straight into the output; what they return, and the errors they
raise, are those of the ordinary pass."""

from __future__ import annotations

import gzip
import io

import pytest
from codec_helpers import DAMAGE_WORDS, damaged_gzip, smooth_noise
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxelio import codecs
from voxelio.codecs import backends
from voxelio.errors import ImageFileError

DATA = smooth_noise(1_500_000, seed=5)
BIG = 64 * 1024  # the FAST_READ_MIN fast_readers_made sets: reads this large may go through


@pytest.fixture
def counted(fast_readers_made):
    """Readers made, counted (empty without ISA-L's gzip reader)."""
    return fast_readers_made


def _file(tmp_path, raw: bytes) -> str:
    path = tmp_path / "one.gz"
    path.write_bytes(raw)
    return str(path)


def _needs_reader():
    if backends._gzip_reader_class() is None:
        pytest.skip("ISA-L's gzip reader is not installed")  # the default install has it


def test_a_large_read_goes_through_and_sequential_reads_continue_it(tmp_path, counted):
    _needs_reader()
    path = _file(tmp_path, gzip.compress(DATA, mtime=0))
    with codecs.open_indexed(path) as reader:
        assert reader.read_range(0, 100) == DATA[:100]  # small: the ordinary pass
        assert counted == []
        parts = [reader.read_range(off, BIG) for off in range(100, 100 + 6 * BIG, BIG)]
        assert b"".join(parts) == DATA[100 : 100 + 6 * BIG]
        assert len(counted) == 1  # one reader, continued: no restart per part
        assert reader._source.inflated <= 100 + 6 * BIG + 64 * 1024
        # a read behind it still works (ordinary pass, seek points)
        assert reader.read_range(5000, 300) == DATA[5000:5300]
        assert reader.read_range(len(DATA) - BIG - 7, BIG + 7) == DATA[-BIG - 7 :]


def test_a_proxy_reading_chunk_after_chunk_continues_the_reader(tmp_path, counted):
    """The proxy lets go of kept bytes after every read; the reader must survive that,
    or each large chunk of a front-to-back pass (a dask array's) inflates from the start."""
    _needs_reader()
    import numpy as np

    from voxelio.proxy import ArrayProxy

    path = _file(tmp_path, gzip.compress(DATA[: 6 * BIG], mtime=0))
    proxy = ArrayProxy(path, ((BIG // 2, 6), np.dtype("<u2")))  # one column = BIG bytes
    expected = np.frombuffer(DATA[: 6 * BIG], "<u2").reshape((BIG // 2, 6), order="F")
    for col in range(6):
        assert np.array_equal(proxy.read((slice(None), slice(col, col + 1))),
                              expected[:, col : col + 1])
    assert len(counted) == 1  # one reader, continued across the proxy's reads
    assert proxy._kept._source.inflated == 6 * BIG  # every byte inflated once
    proxy.close()


def test_a_large_read_a_little_further_on_continues_the_reader(tmp_path, counted):
    _needs_reader()
    path = _file(tmp_path, gzip.compress(DATA, mtime=0))
    with codecs.open_indexed(path) as reader:
        assert reader.read_range(0, BIG) == DATA[:BIG]
        assert reader.read_range(3 * BIG, BIG) == DATA[3 * BIG : 4 * BIG]  # a gap
        assert len(counted) == 1  # the gap was inflated by the same reader
        assert reader._source.inflated == 4 * BIG  # nothing from the start again
        end = len(DATA) - 100
        assert reader.read_range(end, BIG) == DATA[end:]  # runs into the end
        assert reader._source.size == len(DATA)


def test_the_standard_library_mode_reads_the_same_without_it(tmp_path, counted, monkeypatch):
    monkeypatch.setenv("VOXELIO_STDLIB_CODECS", "1")
    path = _file(tmp_path, gzip.compress(DATA, mtime=0))
    with codecs.open_indexed(path) as reader:
        assert reader.read_range(10, len(DATA) - 10) == DATA[10:]
    assert counted == []


@pytest.mark.parametrize("tail", [b"", bytes(64), b"junk after the stream"])
def test_what_follows_the_stream_is_handled_as_by_the_ordinary_pass(tmp_path, counted, tail):
    _needs_reader()
    raw = gzip.compress(DATA[:700_000], mtime=0) + gzip.compress(DATA[700_000:], mtime=0)
    with codecs.open_indexed(_file(tmp_path, raw + tail)) as reader:
        assert reader.read_range(3, len(DATA)) == DATA[3:]


@pytest.mark.parametrize("damage", ["truncate", "corrupt", "crc"])
def test_bad_streams_raise_as_the_ordinary_pass_does(tmp_path, counted, damage):
    _needs_reader()
    raw = damaged_gzip(gzip.compress(DATA, mtime=0), damage)
    with codecs.open_indexed(_file(tmp_path, raw)) as reader, pytest.raises(
        ImageFileError, match=DAMAGE_WORDS[damage]
    ):
        reader.read_range(0, len(DATA))


def test_a_stream_that_cannot_seek_is_not_read_through(counted):
    class Pipe(io.RawIOBase):
        def __init__(self, raw):
            self._raw = io.BytesIO(raw)

        def readable(self):
            return True

        def readinto(self, b):
            return self._raw.readinto(b)

    with codecs.opened(Pipe(gzip.compress(DATA, mtime=0))) as f:
        assert f.read() == DATA
    assert counted == []


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reads=st.lists(st.tuples(st.integers(0, len(DATA) - 1), st.integers(1, 3 * BIG)),
                      min_size=1, max_size=8))
def test_random_reads_large_and_small_equal_the_data(tmp_path_factory, counted, reads):
    path = tmp_path_factory.mktemp("through") / "r.gz"
    path.write_bytes(gzip.compress(DATA, compresslevel=6, mtime=0))
    with codecs.open_indexed(str(path)) as reader:
        for offset, n in reads:
            assert reader.read_range(offset, n) == DATA[offset : offset + n]

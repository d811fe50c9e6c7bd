"""The seek index of single gzip streams: random reads equal the full read, and a read
of bytes a pass went over inflates at most one seek-point interval more than it asks."""

from __future__ import annotations

import gzip

import pytest
from codec_helpers import smooth_noise
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxelio import codecs
from voxelio.codecs import backends, seek_index

DATA = smooth_noise(900_000, seed=11)
SPACING = 32 * 1024

reads = st.lists(
    st.tuples(st.integers(0, len(DATA) - 1), st.integers(1, 50_000)), min_size=1, max_size=12
)
_SETTINGS = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def single(tmp_path, monkeypatch):
    monkeypatch.setattr(seek_index, "MIN_SPACING", SPACING)
    monkeypatch.setattr(seek_index, "MAX_SPACING", SPACING)
    path = tmp_path / "single.gz"
    path.write_bytes(gzip.compress(DATA, compresslevel=6, mtime=0))
    return str(path)


def _read_and_cost(reader, offset, n):
    source = reader._source
    before = source.inflated
    got = reader.read_range(offset, n)
    return got, source.inflated - before


@_SETTINGS
@given(plan=reads, threads=st.sampled_from(["1", "2"]))
def test_random_reads_equal_the_full_read(single, monkeypatch, plan, threads):
    monkeypatch.setenv("VOXELIO_NUM_THREADS", threads)
    with codecs.open_indexed(single) as r:
        full = r.read()
    assert full == DATA
    with codecs.open_indexed(single) as r:
        reached = 0
        for offset, n in plan:
            got, cost = _read_and_cost(r, offset, n)
            assert got == full[offset : offset + n]
            if offset + n <= reached:  # bytes an earlier pass went over
                assert cost < SPACING + n
            reached = max(reached, offset + len(got))
            # a jump's bytes are indexed by a pass at lower priority, which reads
            # never wait for: the promise holds once it is done (on a loaded
            # machine it may still be running at the next read)
            if r._source._indexer is not None:
                r._source._indexer.join(60)


def test_after_a_jump_the_pass_indexes_to_the_end(single, monkeypatch):
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    with codecs.open_indexed(single) as r:
        assert r.read_range(100_000, 3000) == DATA[100_000:103_000]
        source = r._source
        assert source._indexer is not None
        source._indexer.join()
        assert source.size == len(DATA)
        # every point of the stream is now within one interval of a seek point
        gaps = [b - a for a, b in zip(source._cp_u, source._cp_u[1:], strict=False)]
        assert max(gaps) <= SPACING
        for offset in (880_000, 5, 450_000, 103_000, 899_000, 250_001):
            got, cost = _read_and_cost(r, offset, 2000)
            assert got == DATA[offset : offset + 2000]
            assert cost < SPACING + 2000


def test_sequential_reads_start_no_indexer(single, monkeypatch):
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    with codecs.open_indexed(single) as r:
        assert r.read(352) == DATA[:352]
        assert r.read(100_000) == DATA[352:100_352]
        assert r._source._indexer is None


def test_the_indexing_pass_leaves_copies_of_the_copyable_inflater(single, monkeypatch):
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "1")
    with codecs.open_indexed(single) as r:
        r.read_range(500_000, 10)
        states = [state for _, state in r._source._cps if state is not None]
    assert states
    expected = type(backends.checkpoint_gzip_module().decompressobj(31))
    assert all(type(state) is expected for state in states)


def test_stdlib_mode_indexes_with_zlib(single, monkeypatch):
    import zlib

    monkeypatch.setenv("VOXELIO_STDLIB_CODECS", "1")
    assert backends.checkpoint_gzip_module() is zlib
    assert backends.seek_index_codec().startswith("zlib ")
    with codecs.open_indexed(single) as r:
        assert r.read_range(700_000, 5000) == DATA[700_000:705_000]
        assert r.read_range(20_000, 5000) == DATA[20_000:25_000]


@pytest.mark.parametrize(
    ("compressed", "spacing"),
    [(None, 256 << 10), (0, 256 << 10), (10_000, 256 << 10), (72 << 20, 512 << 10),
     (144 << 20, 1 << 20), (10 << 30, 4 << 20)],
)
def test_spacing_grows_with_the_file(compressed, spacing):
    assert seek_index.checkpoint_spacing(compressed) == spacing

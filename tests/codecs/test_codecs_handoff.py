"""A reader left open by one shared open is taken by the next, for the same unchanged file."""

from __future__ import annotations

import gzip
import io
import os

import pytest
from codec_helpers import smooth_noise

from voxelio import codecs
from voxelio.codecs import seek_index

DATA = smooth_noise(300_000, seed=5)


@pytest.fixture
def single(tmp_path):
    path = tmp_path / "single.gz"
    path.write_bytes(gzip.compress(DATA, compresslevel=6, mtime=0))
    return str(path)


def test_window_after_pass_to_end_serves_reads(monkeypatch):
    monkeypatch.setattr(seek_index, "WINDOW_MAX", 100_000)
    with codecs.open_indexed(io.BytesIO(gzip.compress(DATA, mtime=0))) as r:
        assert r.seek(0, io.SEEK_END) == len(DATA)
        for offset, n in [(len(DATA) - 10, 50), (len(DATA) - 90_000, 80_000), (0, 1000),
                          (123_456, 70_000), (len(DATA), 5), (len(DATA) - 200_000, 200_000)]:
            assert r.read_range(offset, n) == DATA[offset : offset + n]
        r.release_cache()
        assert r.read_range(len(DATA) - 10, 50) == DATA[-10:]


def test_left_reader_is_taken_once(single):
    with codecs.opened(single, "rb", leave_open=True) as a:
        a.seek(0, io.SEEK_END)
    with codecs.opened(single, "rb", reuse=True) as b:
        assert b is a
        assert b.read_range(1000, 5000) == DATA[1000:6000]
    assert a.closed
    with codecs.opened(single, "rb", reuse=True) as c:
        assert c is not a
        assert c.read() == DATA


def test_changed_file_is_opened_again(single):
    with codecs.opened(single, "rb", leave_open=True) as a:
        assert a.read(10) == DATA[:10]
    other = DATA[::-1]
    with open(single, "wb") as f:
        f.write(gzip.compress(other, mtime=0))
    os.utime(single, ns=(1, 1))
    with codecs.opened(single, "rb", reuse=True) as b:
        assert b is not a
        assert b.read() == other


def test_plain_files_are_not_left_open(tmp_path):
    path = tmp_path / "plain.bin"
    path.write_bytes(DATA)
    with codecs.opened(str(path), "rb", leave_open=True) as f:
        assert f.read(4) == DATA[:4]
    assert f.closed


def test_far_small_read_indexes_in_background(single, monkeypatch):
    monkeypatch.setattr(seek_index, "MAX_SPACING", 16_384)
    monkeypatch.setattr(seek_index, "MIN_SPACING", 16_384)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    with codecs.open_indexed(single) as r:
        assert r.read_range(250_000, 1000) == DATA[250_000:251_000]
        # later reads, before and after, wait for the indexer or use its checkpoints
        for offset in (200_000, 10_000, 299_000, 120_000):
            assert r.read_range(offset, 900) == DATA[offset : offset + 900]
        source = r._source
        source._indexer.join()
        assert len(source._cp_u) > 10
        assert source.size == len(DATA)


def test_close_stops_the_indexer(single, monkeypatch):
    monkeypatch.setattr(seek_index, "MAX_SPACING", 16_384)
    monkeypatch.setattr(seek_index, "MIN_SPACING", 16_384)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    r = codecs.open_indexed(single)
    assert r.read_range(280_000, 100) == DATA[280_000:280_100]
    indexer = r._source._indexer
    r.close()
    assert indexer is not None and r._source._stopped
    indexer.join(30)  # close does not wait: the pass ends at its next step
    assert not indexer.is_alive()

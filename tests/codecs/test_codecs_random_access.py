"""Range reads equal slices of the original, for blocked gzip, single streams and others."""

from __future__ import annotations

import gzip
import io
import random
import threading

import numpy as np
import pytest
from codec_helpers import compress, smooth_noise, usable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxelio import codecs
from voxelio.codecs import seek_index
from voxelio.errors import ImageFileError

DATA = smooth_noise(600_000, seed=3)
BLOCKED = compress(DATA, "gzip", gzip_blocks=8192)  # ~74 members
SINGLE = gzip.compress(DATA, compresslevel=6, mtime=0)  # as other tools write it

ranges = st.tuples(st.integers(0, len(DATA) + 100), st.integers(0, 70_000))
_SETTINGS = settings(max_examples=300, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module", autouse=True)
def _dense_checkpoints():
    # Small spacing so a 600 kB stream gets many zlib checkpoints.
    saved = seek_index.MIN_SPACING, seek_index.MAX_SPACING
    seek_index.MIN_SPACING = seek_index.MAX_SPACING = 16 * 1024
    yield
    seek_index.MIN_SPACING, seek_index.MAX_SPACING = saved


@pytest.fixture(scope="module")
def blocked_reader():
    with codecs.open_indexed(io.BytesIO(BLOCKED)) as r:
        yield r


@pytest.fixture(scope="module")
def single_reader():
    with codecs.open_indexed(io.BytesIO(SINGLE)) as r:
        yield r


@_SETTINGS
@given(rng=ranges)
def test_blocked_range_reads_equal_slices(blocked_reader, rng):
    offset, n = rng
    assert blocked_reader.blocked
    assert blocked_reader.read_range(offset, n) == DATA[offset : offset + n]


@_SETTINGS
@given(rng=ranges)
def test_single_stream_range_reads_equal_slices(single_reader, rng):
    offset, n = rng
    assert single_reader.read_range(offset, n) == DATA[offset : offset + n]


@settings(max_examples=60, deadline=None)
@given(rng=ranges, codec=st.sampled_from(["bz2", "zstd", "gzip-single"]))
def test_other_streams_range_reads_equal_slices(rng, codec):
    offset, n = rng
    name = codec.split("-")[0]
    if not usable(name):
        return
    raw = _cached(codec)
    with codecs.open_indexed(io.BytesIO(raw)) as r:
        r.read_range(len(DATA) // 2, 10)  # leave state ahead, so some reads go back
        assert r.read_range(offset, n) == DATA[offset : offset + n]


_RAW: dict[str, bytes] = {}


def _cached(codec: str) -> bytes:
    if codec not in _RAW:
        name, _, mode = codec.partition("-")
        _RAW[codec] = compress(DATA, name, gzip_blocks=mode != "single")
    return _RAW[codec]


def test_single_stream_keeps_checkpoints_for_backward_reads(single_reader):
    single_reader.read_range(len(DATA) - 10, 10)
    cps = single_reader._source._cp_u
    assert len(cps) > 10
    assert single_reader.read_range(300_000, 5) == DATA[300_000:300_005]


def test_positional_reads_leave_the_file_position(blocked_reader):
    blocked_reader.seek(1234)
    blocked_reader.read_range(500_000, 100)
    assert blocked_reader.tell() == 1234
    assert blocked_reader.read(4) == DATA[1234:1238]


@pytest.mark.parametrize("raw", [BLOCKED, SINGLE], ids=["blocked", "single"])
def test_many_threads_reading_ranges_get_correct_bytes(raw):
    errors: list[BaseException] = []
    with codecs.open_indexed(io.BytesIO(raw)) as reader:

        def work(seed: int) -> None:
            rnd = random.Random(seed)
            try:
                for _ in range(60):
                    offset = rnd.randrange(len(DATA))
                    n = rnd.randrange(1, 40_000)
                    got = reader.read_range(offset, n)
                    if got != DATA[offset : offset + n]:
                        raise AssertionError(f"wrong bytes at {offset}+{n}")
            except BaseException as err:  # collected for the main thread
                errors.append(err)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors[0]


@pytest.mark.parametrize("codec", ["gzip", "bz2", "zstd"])
def test_read_into_fills_a_numpy_array(tmp_path, codec, backend):
    if not usable(codec):
        pytest.skip(f"{codec} is not available here")
    path = tmp_path / "img.gz"
    with codecs.opened(path, "wb", codec) as f:
        f.write(DATA)
    out = np.empty((len(DATA) - 352) // 2, dtype="<i2")
    assert codecs.read_into(path, 352, out) == out.nbytes
    assert out.tobytes() == DATA[352 : 352 + out.nbytes]


def test_read_into_a_memoryview_and_at_the_end():
    out = bytearray(100)
    codecs.read_into(io.BytesIO(BLOCKED), len(DATA) - 100, memoryview(out))
    assert bytes(out) == DATA[-100:]
    with pytest.raises(ImageFileError, match="ends early"):
        codecs.read_into(io.BytesIO(BLOCKED), len(DATA) - 50, out)


def test_read_into_uncompressed_data(tmp_path):
    path = tmp_path / "plain"
    path.write_bytes(DATA)
    out = bytearray(1000)
    codecs.read_into(path, 5000, out)
    assert bytes(out) == DATA[5000:6000]


def test_full_read_with_one_thread_matches(monkeypatch):
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "1")
    out = bytearray(len(DATA))
    codecs.read_into(io.BytesIO(BLOCKED), 0, out)
    assert bytes(out) == DATA


def test_large_read_of_a_single_stream_uses_the_fast_path(monkeypatch):
    monkeypatch.setattr(seek_index, "FAST_READ_MIN", 1024)
    with codecs.open_indexed(io.BytesIO(SINGLE)) as r:
        assert r.read_range(10, 500_000) == DATA[10:500_010]
        assert r.read_range(5, 10) == DATA[5:15]
        assert r.read_range(550_000, 100_000) == DATA[550_000:]

"""write_array gives the same bytes whatever the memory order of its input."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest

from voxelio import writing

SHAPES = [(5,), (3, 4), (7, 5, 300), (40, 30, 20, 3), (1, 1, 1), (2, 0, 3), (300, 2, 2000)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("order", ["F", "C"])
def test_chunks_follow_the_requested_order(shape, layout, order, monkeypatch):
    monkeypatch.setattr(writing, "CHUNK_ELEMENTS", 1000)
    rng = np.random.default_rng(1)
    a = rng.integers(0, 100, shape).astype(np.int16)
    a = {"C": np.ascontiguousarray, "F": np.asfortranarray, "strided": lambda x: x[::2]}[layout](a)
    buf = io.BytesIO()
    writing.write_array(a, buf, ">i2", order=order)
    assert buf.getvalue() == a.astype(">i2").tobytes(order=order)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=80, deadline=None)
@given(
    shape=st.lists(st.integers(1, 9), min_size=2, max_size=5).map(tuple),
    dtype=st.sampled_from(["<i2", ">f4", "u1", "<f8", "<c8", "V3"]),
    chunk=st.integers(1, 300),
    tile_first=st.integers(1, 5),
    tile_rows=st.integers(1, 40),
    unit=st.sampled_from([1, 2, 4, 8, 16]),
    slab_chunks=st.integers(1, 3),
)
def test_tiled_transposition_matches_numpy(
    shape, dtype, chunk, tile_first, tile_rows, unit, slab_chunks
):
    # any slab depth, tile size and run length gives numpy's F-order bytes of a
    # C-order array (runs are used only where the item size divides them, and
    # the last axis's values beyond the last whole run are tiled one by one)
    n = int(np.prod(shape))
    if dtype == "V3":
        a = np.frombuffer(np.arange(3 * n, dtype=np.uint8).tobytes(), "V3").reshape(shape)
    else:
        a = np.arange(n, dtype=np.int64).reshape(shape).astype(dtype)
    names = ("CHUNK_ELEMENTS", "_TILE_FIRST", "_TILE_ROWS", "_UNIT_BYTES", "_UNIT_TILE_FIRST",
             "_UNIT_TILE_ROWS", "_UNIT_SLAB_CHUNKS")
    old = [getattr(writing, name) for name in names]
    new = (chunk, tile_first, tile_rows, unit, tile_first, tile_rows, slab_chunks)
    for name, value in zip(names, new, strict=True):
        setattr(writing, name, value)
    try:
        pieces = list(writing._chunks_in_order(np.ascontiguousarray(a), "F"))
        back = list(writing._chunks_in_order(np.asfortranarray(a), "C"))
    finally:
        for name, value in zip(names, old, strict=True):
            setattr(writing, name, value)
    assert b"".join(p.tobytes() for p in pieces) == a.tobytes(order="F")
    assert b"".join(p.tobytes() for p in back) == a.tobytes(order="C")


def test_runs_of_the_last_axis_move_as_one_element(monkeypatch):
    # int16 in runs of 8: the gather works on 16-byte elements, then spreads
    # them out; the 3 values beyond the last whole run are tiled one by one
    a = np.arange(4 * 5 * 19, dtype=np.int16).reshape(4, 5, 19)
    seen = []
    real = writing._tiled_copy

    def spy(part, tiles):
        seen.append((part.dtype.itemsize, part.shape))
        return real(part, tiles)

    monkeypatch.setattr(writing, "_tiled_copy", spy)
    pieces = list(writing._chunks_in_order(a, "F"))
    assert seen == [(16, (4, 5, 2)), (2, (4, 5, 3))]
    assert b"".join(p.tobytes() for p in pieces) == a.tobytes(order="F")


def test_transposition_runs_on_the_worker_threads_a_few_slabs_ahead(monkeypatch):
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    monkeypatch.setattr(writing, "CHUNK_ELEMENTS", 64)
    a = np.arange(8 * 8 * 64, dtype=np.int16).reshape(8, 8, 64)  # 8 slabs of runs of 8
    made: list[str] = []
    real = writing._tiled_copy

    def spy(part, tiles):
        made.append(threading.current_thread().name)
        return real(part, tiles)

    monkeypatch.setattr(writing, "_tiled_copy", spy)
    pieces = []
    for piece in writing._chunks_in_order(a, "F"):
        # the next ones are being made while this one is handed on, no more
        assert len(made) <= len(pieces) + 1 + 2
        pieces.append(piece)
    assert len(pieces) == len(made) == 8
    assert all(name.startswith("voxelio-codec") for name in made)
    assert b"".join(p.tobytes() for p in pieces) == a.tobytes(order="F")


def test_a_write_that_stops_early_leaves_no_transposition_running(monkeypatch):
    from voxelio.codecs import backends

    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    monkeypatch.setattr(writing, "CHUNK_ELEMENTS", 64)
    a = np.arange(8 * 8 * 64, dtype=np.int16).reshape(8, 8, 64)
    made: list[int] = []
    real = writing._tiled_copy
    monkeypatch.setattr(writing, "_tiled_copy", lambda p, t: made.append(1) or real(p, t))
    pieces = writing._chunks_in_order(a, "F")
    next(pieces)
    pieces.close()  # as a failing write or Ctrl-C would leave it
    started = len(made)
    backends.thread_pool().submit(lambda: None).result()  # anything queued has run by now
    assert len(made) == started <= 1 + 2


def test_a_failed_write_waits_for_the_pieces_made_ahead(monkeypatch):
    from voxelio.errors import WriterError

    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    monkeypatch.setattr(writing, "CHUNK_ELEMENTS", 64)
    a = np.arange(8 * 8 * 64, dtype=np.int16).reshape(8, 8, 64)
    running: list[int] = []
    calls: list[int] = []
    real = writing._tiled_copy

    def slow_copy(part, tiles):
        calls.append(1)
        running.append(1)
        try:
            if len(calls) > 1:
                time.sleep(0.2)  # the next pieces are still being made when the write fails
            return real(part, tiles)
        finally:
            running.pop()

    monkeypatch.setattr(writing, "_tiled_copy", slow_copy)

    class Refuses(io.BytesIO):
        def write(self, data):
            raise WriterError("no room")

    with pytest.raises(WriterError):
        writing.write_array(a, Refuses(), "<i2")
    assert running == []  # nothing still making a piece once write_array raised


def test_a_c_order_write_holds_a_few_slabs_at_most(monkeypatch):
    import tracemalloc

    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    monkeypatch.setattr(writing, "CHUNK_ELEMENTS", writing.CHUNK_ELEMENTS // 4)
    slab = writing._UNIT_SLAB_CHUNKS * writing.CHUNK_ELEMENTS * 2
    a = np.arange(64 * 64 * 1024, dtype=np.int16).reshape(64, 64, 1024)
    assert a.nbytes >= 4 * slab  # several slabs, more than are ever made ahead

    class Drops:
        def write(self, data):
            return memoryview(data).nbytes

    tracemalloc.start()
    try:
        writing.write_array(a, Drops(), "<i2")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # made ahead (one per thread) and handed on, plus a slab being gathered per thread
    assert peak <= (2 + 1 + 2) * slab + (1 << 20)


def test_a_slab_takes_two_cache_lines_of_each_source_row():
    # 16-byte runs, 8 to a slab at least: each row of the C-order source gives
    # the 128 bytes a read brings in (64-byte lines fetched in pairs)
    a = np.zeros((256, 256, 256), dtype=np.int16)
    depths = [part.shape[-1] * part.dtype.itemsize
              for step in writing._transposing_steps(a) for part in step.args[:1]]
    assert len(depths) == 4
    assert all(depth == 128 for depth in depths)

"""write_array gives the same bytes whatever the memory order of its input."""

from __future__ import annotations

import io

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


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 9), min_size=2, max_size=5).map(tuple),
    dtype=st.sampled_from(["<i2", ">f4", "u1", "<f8", "<c8"]),
    chunk=st.integers(1, 300),
    tile_first=st.integers(1, 5),
    tile_rows=st.integers(1, 40),
)
def test_tiled_transposition_matches_numpy(shape, dtype, chunk, tile_first, tile_rows):
    # any slab depth and tile size gives numpy's F-order bytes of a C-order array
    a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape).astype(dtype)
    old = writing.CHUNK_ELEMENTS, writing._TILE_FIRST, writing._TILE_ROWS
    writing.CHUNK_ELEMENTS, writing._TILE_FIRST, writing._TILE_ROWS = chunk, tile_first, tile_rows
    try:
        pieces = list(writing._chunks_in_order(np.ascontiguousarray(a), "F"))
        back = list(writing._chunks_in_order(np.asfortranarray(a), "C"))
    finally:
        writing.CHUNK_ELEMENTS, writing._TILE_FIRST, writing._TILE_ROWS = old
    assert b"".join(p.tobytes() for p in pieces) == a.tobytes(order="F")
    assert b"".join(p.tobytes() for p in back) == a.tobytes(order="C")

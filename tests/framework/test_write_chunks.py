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

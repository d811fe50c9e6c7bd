"""voxelio.limits and the proxy's size checks: header numbers never drive allocations.

Issue 10, items 7 and 9, at the framework level (the format suites test the
parsers that use these pieces).
"""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest

import voxelio.limits as limits
from voxelio.errors import ImageFileError
from voxelio.proxy import ArrayProxy

MiB = 1 << 20


class CountingStream(io.RawIOBase):
    """A stream of ``size`` zero bytes that records the largest single read."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.largest = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        self.largest = max(self.largest, n)
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


def test_read_upto_never_asks_for_more_than_a_chunk():
    stream = CountingStream(10)
    assert limits.read_upto(stream, 2**62) == bytes(10)
    assert stream.largest <= limits.CHUNK_BYTES


def test_read_upto_memory_follows_the_stream_not_the_claim():
    stream = CountingStream(3 * MiB)
    tracemalloc.start()
    data = limits.read_upto(stream, 2**40)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(data) == 3 * MiB
    assert peak < 2 * len(data) + 2 * MiB


def test_budget_reads_at_most_one_byte_past_its_limit():
    budget = limits.MetadataBudget("test records", max_bytes=100)
    stream = CountingStream(10 * MiB)
    with pytest.raises(ImageFileError, match="more than 100 bytes"):
        budget.read(stream, 2**40)
    assert stream.left == 10 * MiB - 101


def test_budget_counts_records():
    budget = limits.MetadataBudget("test records", max_records=2)
    budget.charge(10)
    budget.charge(10)
    with pytest.raises(ImageFileError, match="more than 2 records"):
        budget.charge(10)


def test_budget_defaults_follow_the_module_attributes(monkeypatch):
    monkeypatch.setattr(limits, "METADATA_BYTES", 5)
    assert limits.MetadataBudget("x").max_bytes == 5


@pytest.mark.parametrize(
    "shape", [(2**40, 2**40), (32767,) * 7, (2**62, 2)], ids=["2^80", "32767^7", "2^63"]
)
def test_proxy_shapes_beyond_64_bits_are_image_file_errors(shape):
    with pytest.raises(ImageFileError, match="more than any file"):
        ArrayProxy(io.BytesIO(b"\0" * 64), (shape, np.int16, 0))


@pytest.mark.parametrize(
    "shape", [(2**40, 2**40, 0), (0, 2**62, 2), (32767,) * 6 + (0,)],
    ids=["2^80x0", "0x2^63", "32767^6x0"],
)
def test_empty_shapes_whose_other_lengths_pass_64_bits_are_image_file_errors(shape):
    # found by the fuzzer: no data to read, yet numpy refuses to make such an array
    # ("array is too big"), so a full read used to fail with a ValueError
    with pytest.raises(ImageFileError, match="besides the zero ones"):
        ArrayProxy(io.BytesIO(b""), (shape, np.int16, 0))


def test_empty_shapes_numpy_can_make_still_read():
    proxy = ArrayProxy(io.BytesIO(b""), ((2**31, 2**31, 0), np.uint8, 0))
    assert np.asarray(proxy).shape == (2**31, 2**31, 0)


def test_proxy_size_is_exact_for_large_shapes():
    proxy = ArrayProxy(io.BytesIO(b""), ((2**31, 2**31), np.uint8, 0))
    assert proxy.size == 2**62 and proxy.nbytes == 2**62


def test_proxy_claiming_more_than_the_stream_holds_is_refused_before_allocating():
    proxy = ArrayProxy(io.BytesIO(b"\0" * 100), ((2**20, 2**20), np.float64, 0))
    with pytest.raises(ImageFileError, match="more than the stream"):
        np.asarray(proxy)

"""Decompressed chunks kept in memory: reads across chunks, the bound, letting go."""

from __future__ import annotations

from voxelio.codecs.kept import KeptChunks

DATA = bytes(range(256)) * 40  # 10240 bytes


def _add_all(kept, start, step):
    for u in range(start, len(DATA), step):
        kept.add(u, memoryview(DATA)[u : u + step])


def test_reads_across_chunks_and_past_the_end():
    kept = KeptChunks(1 << 20)
    _add_all(kept, 1000, 700)
    out = bytearray(3000)
    assert kept.readinto(1500, memoryview(out)) == 3000
    assert out == DATA[1500:4500]
    tail = bytearray(500)
    assert kept.readinto(len(DATA) - 200, memoryview(tail)) == 200
    assert tail[:200] == DATA[-200:]
    assert kept.readinto(999, memoryview(bytearray(10))) == 0  # before the first chunk
    assert kept.start == 1000


def test_the_oldest_chunks_go_past_the_limit():
    kept = KeptChunks(2000)
    _add_all(kept, 0, 500)
    assert kept.nbytes <= 2000 + 500
    assert kept.start == len(DATA) - kept.nbytes
    out = bytearray(100)
    assert kept.readinto(0, memoryview(out)) == 0


def test_a_chunk_that_does_not_continue_the_run_starts_a_new_one():
    kept = KeptChunks(1 << 20)
    kept.add(0, memoryview(DATA)[:100])
    kept.add(500, memoryview(DATA)[500:600])
    assert kept.start == 500 and kept.nbytes == 100


def test_drop_below_and_clear():
    kept = KeptChunks(1 << 20)
    _add_all(kept, 0, 1000)
    kept.drop_below(2500)  # chunks ending at or before 2500 go; [2000, 3000) stays
    assert kept.start == 2000
    kept.clear()
    assert kept.start is None and kept.nbytes == 0


def test_a_limit_of_zero_keeps_the_newest_chunk_only():
    kept = KeptChunks(0)
    _add_all(kept, 0, 1000)
    assert kept.nbytes == 240 and kept.start == 10_000

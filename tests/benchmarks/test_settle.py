"""The harness flushes written files to disk before each case, the same for both libraries."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import cases
    import settle

    yield cases, settle
    for name in ("cases", "settle"):
        sys.modules.pop(name, None)


def test_pending_writeback_is_dirty_plus_writeback(bench, tmp_path):
    _, settle = bench
    fake = tmp_path / "meminfo"
    fake.write_text("MemFree:  100 kB\nDirty:    1200 kB\nWriteback:   34 kB\nCached: 7 kB\n")
    assert settle.pending_writeback_kib(str(fake)) == 1234
    assert settle.pending_writeback_kib(str(tmp_path / "missing")) is None
    fake.write_text("MemFree:  100 kB\n")
    assert settle.pending_writeback_kib(str(fake)) is None


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="needs Linux's /proc/meminfo")
def test_pending_writeback_reads_this_system(bench):
    _, settle = bench
    value = settle.pending_writeback_kib()
    assert isinstance(value, int) and value >= 0


def test_settle_syncs_then_waits_until_little_is_pending(bench):
    _, settle = bench
    synced, slept = [], []
    levels = iter([900_000, 80_000, 40_000, 1_000])
    info = settle.settle(limit_kib=16_384, max_wait=10.0, read=lambda: next(levels),
                         sync=lambda: synced.append(1), sleep=slept.append)
    assert synced == [1]
    assert len(slept) == 2  # 80 MB, then 40 MB still pending; 1 MB is little
    assert info["pending_kib_before"] == 900_000 and info["pending_kib_after"] == 1_000


def test_settle_gives_up_after_its_longest_wait(bench):
    _, settle = bench
    start = time.monotonic()
    info = settle.settle(limit_kib=10, max_wait=0.2, poll=0.01, read=lambda: 1 << 30,
                         sync=lambda: None)
    assert 0.2 <= time.monotonic() - start < 5
    assert info["pending_kib_after"] == 1 << 30


@pytest.mark.parametrize("flush", [True, False])
def test_each_case_starts_settled_when_configured(bench, monkeypatch, flush):
    cases, settle = bench
    calls = []
    monkeypatch.setattr(settle, "settle", lambda: calls.append("settle") or {"seconds": 0.0})

    def one(data, cfg):
        calls.append("case")
        return cases.Result("", "", "")

    monkeypatch.setattr(cases, "CASES", [("a", "t", "x", one), ("b", "t", "x", one)])
    results = list(cases.run_all({}, cases.Config(settle=flush), log=lambda _: None))
    if flush:
        assert calls == ["settle", "case", "settle", "case"]
        assert all(r.notes["settled_before"] == {"seconds": 0.0} for r in results)
    else:
        assert calls == ["case", "case"]
        assert all("settled_before" not in r.notes for r in results)

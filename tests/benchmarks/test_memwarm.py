"""The read cases touch their output's worth of memory before every timed call
(untimed, for both libraries and the floor alike): see benchmarks/memwarm.py."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import memwarm
    import timing

    yield memwarm, timing
    for name in ("memwarm", "timing"):
        sys.modules.pop(name, None)


def test_before_runs_ahead_of_every_call_and_outside_the_timing(bench):
    _, timing = bench
    order: list[str] = []
    pair, floor = timing.alternate(lambda: order.append("vx"), lambda: order.append("nib"),
                                   6, warmup=1, budget=0.0, floor=lambda: order.append("f"),
                                   before=lambda: order.append("warm"))
    assert pair.voxelio.n == floor.n == 6
    calls = [name for name in order if name != "warm"]
    assert len(calls) == 3 * 7  # warm-up round + 6 rounds
    # exactly one warm-up step right before each call
    assert order == [step for name in calls for step in ("warm", name)]
    timing.alternate(lambda: order.append("vx"), lambda: order.append("nib"), 2,
                     warmup=0, before=lambda: order.append("warm"))
    assert order[-4:] in (["warm", "vx", "warm", "nib"], ["warm", "nib", "warm", "vx"])
    stats = timing.repeat(lambda: order.append("one"), 3, warmup=0,
                          before=lambda: order.append("warm"))
    assert order[-6:] == ["warm", "one"] * 3 and stats.n == 3


def test_a_slow_before_step_is_not_timed(bench):
    import time

    _, timing = bench
    elapsed = timing.clock(lambda: None, before=lambda: time.sleep(0.05))
    assert elapsed < 0.04


def test_the_warmer_writes_the_memory_asked_and_keeps_none(bench):
    memwarm, _ = bench
    warm = memwarm.warmer(8 << 20)
    tracemalloc.start()
    try:
        warm()
        now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak >= 8 << 20 and now < 1 << 20


@pytest.mark.parametrize("text, expected", [("9\n", 2 << 20), ("11", 8 << 20), ("x", None)])
def test_page_reporting_block_size(bench, tmp_path, monkeypatch, text, expected):
    memwarm, _ = bench
    path = tmp_path / "page_reporting_order"
    path.write_text(text)
    monkeypatch.setattr(memwarm, "PAGE_REPORTING_ORDER", str(path))
    assert memwarm.page_reporting() == expected
    monkeypatch.setattr(memwarm, "PAGE_REPORTING_ORDER", str(tmp_path / "absent"))
    assert memwarm.page_reporting() is None

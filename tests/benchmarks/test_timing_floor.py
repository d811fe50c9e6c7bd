"""timing.alternate times a floor between the pairs, not after them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def timing(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import timing

    yield timing
    sys.modules.pop("timing", None)


def test_the_floor_runs_once_per_pair_taking_turns(timing):
    order = []
    pair, floor = timing.alternate(lambda: order.append("vx"), lambda: order.append("nib"),
                                   6, warmup=1, budget=0.0, floor=lambda: order.append("f"))
    rounds = [order[i:i + 3] for i in range(3, len(order), 3)]  # after the warm-up
    assert order[:3] == ["vx", "nib", "f"] and len(rounds) == 6
    for name in ("vx", "nib", "f"):
        assert sorted(r.index(name) for r in rounds) == [0, 0, 1, 1, 2, 2]
    assert sum(r.index("vx") < r.index("nib") for r in rounds) == 3
    assert pair.voxelio.n == pair.nibabel.n == floor.n == 6


def test_without_a_floor_only_the_pair_is_returned(timing):
    pair = timing.alternate(lambda: None, lambda: None, 2, warmup=0)
    assert isinstance(pair, timing.Pair) and pair.voxelio.n == 2

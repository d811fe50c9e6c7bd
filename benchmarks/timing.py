"""Timing: warm-up, then repeats alternating between the two libraries.

Alternating (A, B, A, B, ...) rather than A-block then B-block means a burst
of noise from other tenants of a shared machine hits both sides alike; the
per-pair ratios give the spread of the ratio itself.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, overload


@dataclass(frozen=True)
class Stats:
    """Summary of repeated measurements (seconds, or bytes for memory)."""

    median: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, samples: list[float]) -> Stats:
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Pair:
    """voxelio and NiBabel timings of one operation, with the ratio spread."""

    voxelio: Stats
    nibabel: Stats
    ratios: Stats  # per-pair voxelio/nibabel

    @property
    def ratio(self) -> float:
        """Ratio of medians, voxelio / NiBabel (lower is better for voxelio)."""
        return self.voxelio.median / self.nibabel.median


def clock(fn: Callable[[], Any], before: Callable[[], Any] | None = None) -> float:
    """Seconds one call of ``fn`` takes; its result is dropped before returning.

    ``before`` runs first, untimed (see :mod:`memwarm`).
    """
    gc.collect()
    if before is not None:
        before()
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    del result
    return elapsed


def repeat(fn: Callable[[], Any], repeats: int, warmup: int = 1,
           budget: float = 0.0, before: Callable[[], Any] | None = None) -> Stats:
    """Stats of ``repeats`` timed calls (more if fast, see :func:`alternate`)."""
    spent = 0.0
    for _ in range(max(warmup, 1 if budget else 0)):
        spent = clock(fn, before)
    if budget and spent:
        repeats = max(repeats, min(50, int(budget / spent)))
    return Stats.of([clock(fn, before) for _ in range(repeats)])


@overload
def alternate(vx: Callable[[], Any], nib: Callable[[], Any], repeats: int,
              warmup: int = 1, budget: float = 0.0, floor: None = None,
              before: Callable[[], Any] | None = None) -> Pair: ...


@overload
def alternate(vx: Callable[[], Any], nib: Callable[[], Any], repeats: int,
              warmup: int, budget: float, floor: Callable[[], Any],
              before: Callable[[], Any] | None = None) -> tuple[Pair, Stats]: ...


def alternate(vx: Callable[[], Any], nib: Callable[[], Any], repeats: int,
              warmup: int = 1, budget: float = 0.0,
              floor: Callable[[], Any] | None = None,
              before: Callable[[], Any] | None = None) -> Pair | tuple[Pair, Stats]:
    """Time ``vx`` and ``nib`` alternately; the first of each pair alternates too.

    Fast operations get more than ``repeats`` pairs, up to 50, so that each
    side runs for about ``budget`` seconds: medians of short calls need more
    samples on a noisy machine. With a ``floor``, it is timed once per pair,
    among them (so a slow spell of the machine meets it as it meets the
    libraries), the three taking turns at every place in the order, and
    ``(pair, floor stats)`` is returned. ``before`` runs, untimed, before
    every call of each of them.
    """
    spent = 0.0
    for _ in range(max(warmup, 1 if budget else 0)):
        spent = clock(vx, before) + clock(nib, before)
        if floor is not None:
            clock(floor, before)
    if budget and spent:
        repeats = max(repeats, min(50, int(2 * budget / spent)))
    a: list[float] = []
    b: list[float] = []
    if floor is None:
        for i in range(repeats):
            if i % 2:
                b.append(clock(nib, before))
                a.append(clock(vx, before))
            else:
                a.append(clock(vx, before))
                b.append(clock(nib, before))
        return pair_of(a, b)
    c: list[float] = []
    runs = {"vx": (vx, a), "nib": (nib, b), "floor": (floor, c)}
    for i in range(repeats):
        for name in _TURNS[i % len(_TURNS)]:
            fn, samples = runs[name]
            samples.append(clock(fn, before))
    return pair_of(a, b), Stats.of(c)


#: the orders of a round of three: over six rounds each runs first, second and
#: last twice, and before each other one three times
_TURNS = (("vx", "nib", "floor"), ("nib", "vx", "floor"), ("floor", "vx", "nib"),
          ("floor", "nib", "vx"), ("vx", "floor", "nib"), ("nib", "floor", "vx"))


def pair_of(a: list[float], b: list[float]) -> Pair:
    """A Pair from matched voxelio and NiBabel samples."""
    return Pair(Stats.of(a), Stats.of(b), Stats.of([x / y for x, y in zip(a, b, strict=True)]))

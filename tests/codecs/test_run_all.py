"""backends.run_all: the one place that runs codec work on the shared pool and waits."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from voxelio.codecs import backends


@pytest.mark.parametrize("workers", [None, 3])
def test_every_call_runs_once(workers):
    seen = []
    lock = threading.Lock()

    def add(a, b):
        with lock:
            seen.append(a + b)

    executor = ThreadPoolExecutor(workers) if workers else None
    try:
        backends.run_all(executor, add, ((k, 100) for k in range(20)))
    finally:
        if executor:
            executor.shutdown()
    assert sorted(seen) == [k + 100 for k in range(20)]


def test_a_failure_is_raised_and_calls_not_started_are_cancelled():
    started = []
    gate = threading.Event()

    def work(k):
        started.append(k)
        if k == 0:
            raise ValueError("member 0 is corrupt")
        gate.wait(5)

    with ThreadPoolExecutor(1) as executor:
        with pytest.raises(ValueError, match="member 0"):
            backends.run_all(executor, work, ((k,) for k in range(50)))
        gate.set()
    assert started == [0]  # one worker: the rest were queued, then cancelled

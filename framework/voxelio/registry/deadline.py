"""Calling plugin code with a time budget (sniff functions).

:func:`call_with_deadline`: a sniff function runs on a worker thread while
the caller waits at most the budget. Python cannot stop a thread, so a sniff that never returns
keeps its worker (a daemon thread, which does not keep the process alive)
busy for good: the caller goes on without it, the format is reported
broken, and later calls get a fresh worker. A sniff that spins in Python
code still takes its share of the interpreter lock for as long as it runs;
that cost, unlike a stall, cannot be removed from the outside.

:func:`call_timed`: a sniff its plugin vouches for (``FormatSpec.sniff_trusted``)
runs on the caller's thread and is timed; an answer that came later than the
budget is refused as a timeout would be. Handing a call to a thread and
back costs more than a whole small-file load spends elsewhere in dispatch.

Budget: ``VOXELIO_SNIFF_TIMEOUT`` seconds (default 2); ``0`` runs sniffs on
the caller's thread without a budget.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from queue import SimpleQueue

ENV_SNIFF_TIMEOUT = "VOXELIO_SNIFF_TIMEOUT"
DEFAULT_SNIFF_TIMEOUT = 2.0


class SniffTimeoutError(TimeoutError):
    """The plugin code did not return within its budget."""


def sniff_budget() -> float:
    """The sniff budget in seconds from ``VOXELIO_SNIFF_TIMEOUT`` (0: none)."""
    text = os.environ.get(ENV_SNIFF_TIMEOUT, "")
    try:
        value = float(text) if text.strip() else DEFAULT_SNIFF_TIMEOUT
    except ValueError:
        return DEFAULT_SNIFF_TIMEOUT
    return value if value > 0 else 0.0


def call_timed(function: Callable[..., Any], args: tuple, seconds: float) -> Any:
    """``function(*args)`` on this thread, refused if it took over ``seconds`` (0: no limit).

    Raises
    ------
    SniffTimeoutError
        If the call returned after its budget (its result is dropped, as a
        late answer from a worker thread would be).
    BaseException
        Whatever ``function`` raised.
    """
    if not seconds:
        return function(*args)
    start = time.perf_counter()
    result = function(*args)
    took = time.perf_counter() - start
    if took > seconds:
        raise SniffTimeoutError(f"answered after {took:.3g} s, over its budget of {seconds:g} s")
    return result


class _Job:
    __slots__ = ("args", "done", "error", "function", "result")

    def __init__(self, function: Callable[..., Any], args: tuple) -> None:
        import threading

        self.function, self.args = function, args
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


def _serve(jobs: SimpleQueue) -> None:
    while True:
        job = jobs.get()
        try:
            job.result = job.function(*job.args)
        except BaseException as exc:  # handed to the waiting caller, who re-raises it
            job.error = exc
        job.done.set()


# idle workers, each a queue its own daemon thread serves; one per concurrent
# caller. list.pop and list.append are atomic, so no lock is needed (nor one a
# Ctrl-C could leave held).
_idle: list[SimpleQueue] = []


def _worker() -> SimpleQueue:
    try:
        return _idle.pop()
    except IndexError:
        pass
    # imported here: trusted and magic-only formats never need a worker
    import threading
    from queue import SimpleQueue

    jobs: SimpleQueue = SimpleQueue()
    threading.Thread(target=_serve, args=(jobs,), name="voxelio-sniff", daemon=True).start()
    return jobs


def call_with_deadline(function: Callable[..., Any], args: tuple, seconds: float) -> Any:
    """``function(*args)``, waiting at most ``seconds`` (0: no limit, on this thread).

    Raises
    ------
    SniffTimeoutError
        If the call has not returned in time (it keeps running on its
        worker thread; its result is dropped).
    BaseException
        Whatever ``function`` raised.
    """
    if not seconds:
        return function(*args)
    jobs = _worker()
    job = _Job(function, args)
    jobs.put(job)
    try:
        finished = job.done.wait(seconds)
    finally:
        if job.done.is_set():
            _idle.append(jobs)
    if not finished:
        raise SniffTimeoutError(f"did not answer within {seconds:g} s")
    if job.error is not None:
        raise job.error
    return job.result

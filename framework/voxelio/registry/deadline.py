"""Calling plugin code with a time budget on a worker thread (untrusted sniffs).

:func:`call_with_deadline`: a sniff function runs on a worker thread while
the caller waits at most the budget. Python cannot stop a thread, so a sniff that never returns
keeps its worker (a daemon thread, which does not keep the process alive)
busy for good: the caller goes on without it, the format is reported
broken, and later calls get a fresh worker. A sniff that spins in Python
code still takes its share of the interpreter lock for as long as it runs;
that cost, unlike a stall, cannot be removed from the outside.

A sniff its plugin vouches for (``FormatSpec.sniff_trusted``) runs on the
caller's thread instead and is timed there (:func:`.dispatch.call_timed`):
handing a call to a thread and back costs more than a whole small-file load
spends elsewhere in dispatch, and a load that only meets trusted sniffs does
not import this module. The budget is read by :func:`.dispatch.sniff_budget`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from queue import SimpleQueue


class SniffTimeoutError(TimeoutError):
    """The plugin code did not return within its budget."""


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

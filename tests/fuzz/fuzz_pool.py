"""Run fuzz cases in long-lived worker processes, each with a time and memory limit.

A worker (:mod:`fuzz_worker`) handles case after case, so the cost of
starting Python and importing numpy is paid once per worker, not per
case. A worker that does not answer within the time limit is killed
(outcome ``timeout``); one that dies is a ``crash`` (with its signal or
exit code). Either way a fresh worker takes its place.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fuzz_mutate import Case

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_worker.py")
#: outcomes that are fine: the file loaded, or a voxelio error said why not
GOOD = ("ok", "voxelio-error")


@dataclass
class Result:
    case: Case
    outcome: str
    detail: str
    seconds: float


class _Worker:
    def __init__(self, memory_mb: int, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, WORKER, str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1, env=env,
        )
        self.busy: tuple[Case, str, float] | None = None
        self.ready = False

    def send(self, case: Case, folder: str) -> None:
        path = os.path.join(folder, "sample" + case.main)
        message = {"key": case.key, "mode": case.mode, "path": path, "klass": case.klass,
                   "access": case.access}
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        self.busy = (case, folder, time.monotonic())

    def stop(self) -> None:
        """Close the worker's input (it saves its coverage data and exits), then kill it."""
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10 if self.busy is None else 0.1)
        self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()


class WorkerPool:
    """``workers`` worker processes; :meth:`run` yields one Result per case."""

    def __init__(self, workers: int = 2, timeout: float = 20.0, memory_mb: int = 1024,
                 start_timeout: float = 120.0, env: dict[str, str] | None = None) -> None:
        self.env = env
        self.n = workers
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.start_timeout = start_timeout
        self.root = tempfile.mkdtemp(prefix="voxelio-fuzz-")

    def run(self, cases: Iterable[Case]) -> Iterator[Result]:
        pending = iter(cases)
        workers = [_Worker(self.memory_mb, self.env) for _ in range(self.n)]
        selector = selectors.DefaultSelector()
        for w in workers:
            selector.register(w.proc.stdout, selectors.EVENT_READ, w)
        started = time.monotonic()
        exhausted = False
        try:
            while True:
                for w in workers:
                    if w.ready and w.busy is None and not exhausted:
                        case = next(pending, None)
                        if case is None:
                            exhausted = True
                        else:
                            w.send(case, self._write(case))
                if exhausted and all(w.busy is None for w in workers):
                    return
                for key, _ in selector.select(timeout=0.5):
                    w = key.data
                    line = w.proc.stdout.readline()
                    if not line:
                        yield from self._replace(w, workers, selector, "crash")
                        continue
                    answer = json.loads(line)
                    if answer.get("ready"):
                        w.ready = True
                        continue
                    case, folder, t0 = w.busy
                    w.busy = None
                    shutil.rmtree(folder, ignore_errors=True)
                    yield Result(case, answer["outcome"], answer["detail"], time.monotonic() - t0)
                now = time.monotonic()
                for w in list(workers):
                    if w.busy is not None and now - w.busy[2] > self.timeout:
                        yield from self._replace(w, workers, selector, "timeout")
                    elif not w.ready and now - started > self.start_timeout:
                        raise RuntimeError("fuzz workers did not start (see fuzz_worker.py)")
        finally:
            for w in workers:
                w.stop()
            shutil.rmtree(self.root, ignore_errors=True)

    def _write(self, case: Case) -> str:
        folder = tempfile.mkdtemp(dir=self.root)
        for suffix, content in case.files.items():
            with open(os.path.join(folder, "sample" + suffix), "wb") as f:
                f.write(content)
        return folder

    def _replace(self, w: _Worker, workers: list, selector, why: str) -> Iterator[Result]:
        selector.unregister(w.proc.stdout)
        w.kill()
        code = w.proc.returncode
        if w.busy is not None:
            case, folder, t0 = w.busy
            shutil.rmtree(folder, ignore_errors=True)
            detail = f"worker killed after {self.timeout:g} s" if why == "timeout" else (
                f"worker died: {_describe_exit(code)}")
            yield Result(case, why, detail, time.monotonic() - t0)
        fresh = _Worker(self.memory_mb, self.env)
        workers[workers.index(w)] = fresh
        selector.register(fresh.proc.stdout, selectors.EVENT_READ, fresh)


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"

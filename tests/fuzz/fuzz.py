"""voxelio's mutation fuzzer: mutated sample files must load or raise a voxelio error.

Every case takes a sample (:mod:`fuzz_corpus`: files voxelio writes
itself in every first-party format, plain and compressed with each codec
-- single-stream gzip, voxelio's blocked gzip, BGZF, bzip2, zstd -- and
NiBabel's shipped test files), changes it (:mod:`fuzz_mutate`: header
fields set to extreme values, bit flips, truncation, junk appended,
NIfTI extension records and MGH tags of odd sizes, ZIP entry fields;
then the compressed bytes: truncated, corrupted, wrapped twice, a gzip
bomb appended, and for blocked gzip the member table itself -- sizes,
trailers, members cut, dropped, repeated or swapped -- and a pair's file
removed) and runs it in a worker process with a time and memory limit
(:mod:`fuzz_pool`). A case reaches its file by name, as an open file
object, as a ``memory://`` URL, or through ``voxelio info`` and
``voxelio check`` (:mod:`fuzz_worker`); what loads is read whole and by
random indices of ``dataobj`` (each must equal the same index of the
whole array), through ``get_fdata`` and saved again. Outcomes:

``ok``             loaded, the data read, and (small images) saved to bytes and read back
``voxelio-error``  a VoxelioError said why not (fine)
``other-error``    any other exception (a finding)
``memory``         MemoryError under the worker's address-space cap (a finding)
``timeout``        no answer within the time limit (a finding)
``crash``          the worker died (a finding)

Usage::

    python tests/fuzz/fuzz.py                      # 5 minutes, random seed
    python tests/fuzz/fuzz.py --seconds 60 --seed 7
    python tests/fuzz/fuzz.py --cases 300 --seed ci
    python tests/fuzz/fuzz.py --replay 7:123       # one case, in this process
    python tests/fuzz/fuzz.py --replay 7:123 --save DIR   # write its files
    python tests/fuzz/fuzz.py --cases 20000 --workers 1 --coverage DIR
                     # line+branch coverage of voxelio and its plugins (pip install coverage)

Findings are written to ``--out`` (default ``fuzz-findings/``): one
folder per case with its files and a ``case.txt`` saying how it was made,
what happened and how to replay it. ``make test`` runs a fixed-seed slice
(tests/fuzz/test_fuzz_slice.py); ``make fuzz`` runs this script.
``tests/fuzz/atheris_headers.py`` is an optional coverage-guided harness
for the header parsers alone (needs ``pip install atheris``).
"""

from __future__ import annotations

import argparse
import collections
import io
import itertools
import os
import secrets
import sys
import time
from collections.abc import Iterator

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzz_corpus import Sample, build_corpus
from fuzz_mutate import Case, make_case
from fuzz_pool import GOOD, Result, WorkerPool
from fuzz_worker import COVERAGE_ENV


def cases(corpus: list[Sample], seed: str, count: int | None, deadline: float | None,
          ) -> Iterator[Case]:
    for index in itertools.count():
        if count is not None and index >= count:
            return
        if deadline is not None and time.monotonic() > deadline:
            return
        yield make_case(corpus, seed, index)


def run(seed: str, count: int | None = None, seconds: float | None = None, workers: int = 2,
        timeout: float = 20.0, memory_mb: int = 1024, coverage_dir: str | None = None,
        ) -> list[Result]:
    """Run the cases of ``seed`` (``count`` of them, or for ``seconds``); return every result.

    With ``coverage_dir`` the workers measure coverage into data files there
    (see :func:`coverage_report`).
    """
    corpus = build_corpus()
    deadline = None if seconds is None else time.monotonic() + seconds
    env = None
    if coverage_dir is not None:
        os.makedirs(coverage_dir, exist_ok=True)
        data_file = os.path.join(os.path.abspath(coverage_dir), ".coverage")
        env = {**os.environ, COVERAGE_ENV: data_file}
    pool = WorkerPool(workers=workers, timeout=timeout, memory_mb=memory_mb, env=env)
    return list(pool.run(cases(corpus, seed, count, deadline)))


def coverage_report(coverage_dir: str) -> str:
    """Combine the workers' coverage data in ``coverage_dir``; a per-file text report.

    The report (also written to ``coverage.txt`` there) ends with the
    line and branch coverage of the framework and of each plugin.
    """
    import coverage

    data_file = os.path.join(os.path.abspath(coverage_dir), ".coverage")
    cov = coverage.Coverage(data_file=data_file, branch=True)
    cov.combine(keep=True)
    cov.save()
    text = io.StringIO()
    cov.report(file=text, show_missing=False, skip_empty=True)
    totals = collections.defaultdict(lambda: [0, 0])  # package -> [covered, statements+branches]
    data = cov.get_data()
    for path in data.measured_files():
        analysis = cov._analyze(path)
        numbers = analysis.numbers
        package = ("framework" if "/framework/" in path
                   else path.split("/plugins/")[-1].split("/")[0])
        totals[package][0] += numbers.n_executed + numbers.n_executed_branches
        totals[package][1] += numbers.n_statements + numbers.n_branches
    lines = [text.getvalue()]
    for package, (hit, total) in sorted(totals.items()):
        lines.append(f"{package}: {100 * hit / max(total, 1):.1f}% of lines+branches")
    report = "\n".join(lines)
    with open(os.path.join(coverage_dir, "coverage.txt"), "w") as f:
        f.write(report + "\n")
    return report


def summary(results: list[Result], elapsed: float) -> str:
    outcomes = collections.Counter(r.outcome for r in results)
    lines = [f"{len(results)} cases in {elapsed:.1f} s: " + ", ".join(
        f"{k} {v}" for k, v in sorted(outcomes.items()))]
    by_sample = collections.defaultdict(collections.Counter)
    for r in results:
        by_sample[r.case.sample][r.outcome] += 1
    width = max((len(name) for name in by_sample), default=0)
    for name in sorted(by_sample):
        lines.append(f"  {name:<{width}}  " + ", ".join(
            f"{k} {v}" for k, v in sorted(by_sample[name].items())))
    access = collections.Counter(r.case.access for r in results)
    lines.append("access: " + ", ".join(f"{k} {v}" for k, v in sorted(access.items())))
    slowest = sorted(results, key=lambda r: r.seconds, reverse=True)[:3]
    if slowest:
        lines.append("slowest: " + ", ".join(
            f"{r.case.key} ({r.case.sample}) {r.seconds:.2f} s" for r in slowest))
    return "\n".join(lines)


def describe(result: Result) -> str:
    case = result.case
    return "\n".join([
        f"case {case.key} ({case.sample}): {result.outcome} after {result.seconds:.2f} s",
        *(f"  step: {s}" for s in case.steps),
        f"  replay: python tests/fuzz/fuzz.py --replay {case.key}",
        "  " + result.detail.strip().replace("\n", "\n  "),
    ])


def save_case(case: Case, folder: str, text: str = "") -> str:
    os.makedirs(folder, exist_ok=True)
    for suffix, content in case.files.items():
        with open(os.path.join(folder, "sample" + suffix), "wb") as f:
            f.write(content)
    with open(os.path.join(folder, "case.txt"), "w") as f:
        f.write(text or "\n".join([f"case {case.key} ({case.sample})", *case.steps]) + "\n")
    return folder


def replay(key: str, save: str | None) -> int:
    """Run one case in this process (tracebacks go straight to the terminal)."""
    import tempfile

    from fuzz_worker import run_case

    seed, _, index = key.rpartition(":")
    case = make_case(build_corpus(), seed, int(index))
    folder = save_case(case, save or tempfile.mkdtemp(prefix="voxelio-fuzz-replay-"))
    print(f"case {case.key} ({case.sample}, {case.access}), files in {folder}")
    for step in case.steps:
        print("  step:", step)
    answer = run_case({"key": case.key, "mode": case.mode, "klass": case.klass,
                       "path": os.path.join(folder, "sample" + case.main),
                       "access": case.access})
    print(answer["outcome"], answer["detail"])
    return 0 if answer["outcome"] in GOOD else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", default=None, help="run seed (default: random)")
    parser.add_argument("--cases", type=int, default=None, help="number of cases")
    parser.add_argument("--seconds", type=float, default=None, help="run time (default 300)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per case")
    parser.add_argument("--memory-mb", type=int, default=1024,
                        help="address space a worker may add to what it uses at start")
    parser.add_argument("--out", default="fuzz-findings", help="where findings are saved")
    parser.add_argument("--replay", default=None, help="SEED:INDEX of one case to run here")
    parser.add_argument("--save", default=None, help="with --replay: folder for its files")
    parser.add_argument("--coverage", default=None, metavar="DIR",
                        help="measure coverage of voxelio and its plugins into DIR "
                             "(needs the coverage package)")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay, args.save)
    seed = args.seed or secrets.token_hex(4)
    seconds = args.seconds if args.seconds is not None or args.cases else 300.0
    print(f"fuzzing with seed {seed} ({args.workers} workers, {args.timeout:g} s and "
          f"+{args.memory_mb} MiB per case)", flush=True)
    start = time.monotonic()
    results = run(seed, args.cases, seconds, args.workers, args.timeout, args.memory_mb,
                  args.coverage)
    print(summary(results, time.monotonic() - start))
    if args.coverage:
        print(coverage_report(args.coverage).rsplit("\n\n", 1)[-1].strip())
    findings = [r for r in results if r.outcome not in GOOD]
    for result in findings:
        text = describe(result)
        print("\n" + text)
        save_case(result.case, os.path.join(args.out, result.case.key.replace(":", "-")), text)
    if findings:
        print(f"\n{len(findings)} finding(s) saved under {args.out}/")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())

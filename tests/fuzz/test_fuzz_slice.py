"""A fixed-seed slice of the mutation fuzzer: every mutated file loads or gives a voxelio error.

Each case runs in a worker process with a time and memory limit (see
tests/fuzz/fuzz.py, which ``make fuzz`` runs longer with a random seed).
A failure lists each finding with the command that replays it.
"""

from __future__ import annotations

import collections

from fuzz import describe, run
from fuzz_pool import GOOD

SEED = "make-test"
CASES = 600


def test_fixed_seed_slice_gives_only_loads_and_voxelio_errors():
    results = run(SEED, count=CASES, workers=2, timeout=60.0, memory_mb=512)
    assert len(results) == CASES
    findings = [r for r in results if r.outcome not in GOOD]
    assert not findings, "\n\n".join(describe(r) for r in findings)
    outcomes = collections.Counter(r.outcome for r in results)
    # the mutations must exercise both sides: files that still load, files refused
    assert outcomes["ok"] > CASES // 5 and outcomes["voxelio-error"] > CASES // 5
    assert len({r.case.sample for r in results}) >= 10


def test_cases_are_reproducible_from_seed_and_index():
    from fuzz_corpus import build_corpus
    from fuzz_mutate import make_case

    corpus = build_corpus()
    first = make_case(corpus, SEED, 17)
    again = make_case(corpus, SEED, 17)
    assert first.files == again.files and first.steps == again.steps
    assert make_case(corpus, SEED, 18).files != first.files


def test_the_pool_reports_timeouts_crashes_memory_and_wrong_slices(tmp_path):
    """The classifier itself: a hanging, a dying, a greedy and a lying case are findings."""
    from fuzz_mutate import Case
    from fuzz_pool import WorkerPool

    def case(index: int, klass: str) -> Case:
        return Case("pool", index, "probe", [], {".zip": b"PK\x03\x04"}, "bytes", klass, ".zip")

    probes = [case(0, "fuzz_probes:Hang"), case(1, "fuzz_probes:Die"),
              case(2, "fuzz_probes:Greedy"), case(3, "fuzz_probes:Fine"),
              case(4, "fuzz_probes:Liar")]
    pool = WorkerPool(workers=2, timeout=3.0, memory_mb=256)
    results = {r.case.index: r for r in pool.run(probes)}
    outcomes = {index: r.outcome for index, r in results.items()}
    assert outcomes == {0: "timeout", 1: "crash", 2: "memory", 3: "voxelio-error",
                        4: "other-error"}
    # an index of dataobj that reads other values than the whole array is a finding
    assert "SliceMismatchError" in results[4].detail

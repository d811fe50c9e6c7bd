"""The benchmark harness runs end to end in quick mode and reports every case."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import nibabel  # noqa: F401  (the benchmark peer must be installed)
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--cache-dir", str(tmp / "cache"),
         "--results-dir", str(out)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "latest.md").read_text().count("| ") > 10
    return json.loads((out / "latest.json").read_text())


def _case_ids() -> list[str]:
    sys.path.insert(0, str(RUN.parent))
    try:
        import cases
    finally:
        sys.path.remove(str(RUN.parent))
    return [case_id for case_id, *_ in cases.CASES]


def test_quick_run_reports_every_case(quick_results: dict) -> None:
    assert set(quick_results["cases"]) == set(_case_ids())


def test_every_case_ran_or_names_the_missing_plugin(quick_results: dict) -> None:
    for case_id, res in quick_results["cases"].items():
        status = res["status"]
        if status == "ok":
            assert isinstance(res["ratio"], float) and math.isfinite(res["ratio"]), case_id
            # a peak-memory case may measure no new resident pages at all on the
            # quick data (the output fits in memory the process already holds)
            if case_id.startswith("memory-"):
                assert res["ratio"] >= 0, case_id
            else:
                assert res["ratio"] > 0, case_id
            assert all(isinstance(c["value"], float) for c in res["checks"]), case_id
            assert isinstance(res["passed"], bool), case_id
        else:
            assert status.startswith(("not installed", "broken")), (case_id, status)


def test_floors_are_measured(quick_results: dict) -> None:
    names = [f["name"] for f in quick_results["floors"]]
    assert any("fromfile" in n for n in names)
    assert any("inflate" in n for n in names)
    assert "memcpy" in names
    assert all(f["median"] > 0 for f in quick_results["floors"])


def test_saves_show_their_deflate_floor_and_size(quick_results: dict) -> None:
    saves = {k: r for k, r in quick_results["cases"].items() if k.startswith("save-")}
    assert saves
    for case_id, res in saves.items():
        assert "deflate on" in res["floor"]["name"] and res["floor"]["median"] > 0, case_id
        assert [c["label"] for c in res["checks"]] == ["vs NiBabel", "size"], case_id

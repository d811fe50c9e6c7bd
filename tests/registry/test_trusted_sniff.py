"""Where sniffs run: trusted ones on the caller's thread (timed), others on a worker.

A sniff whose spec declares ``sniff_trusted`` saves the thread hand-off on
every load; an answer later than the budget is still refused and its format
marked broken. Any other sniff keeps its worker thread and budget.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

import voxelio as vx
from voxelio.registry import FormatSpec, InvalidSpecError, store
from voxelio.registry.discovery import PluginWarning

FIRST_PARTY = ("analyze", "nifti1", "nifti1-pair", "nifti2", "nifti2-pair", "mgh")


class _Recorder:
    """A sniff that records the thread it ran on and answers 'yes' (after ``delay``)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.threads: list[int] = []
        self.delay = delay

    def __call__(self, prefix: bytes, filespec: str | None) -> str:
        self.threads.append(threading.get_ident())
        if self.delay:
            time.sleep(self.delay)
        return "yes"


def _spec(name: str, sniff: _Recorder, trusted: bool) -> FormatSpec:
    return FormatSpec(
        name=name,
        image_class="voxelio_toy.image:ToyImage",
        extensions=(f".{name}",),
        sniff=sniff,
        sniff_bytes=4,
        sniff_trusted=trusted,
    )


def test_a_trusted_sniff_runs_on_the_callers_thread(isolated_registry, tmp_path):
    sniff = _Recorder()
    vx.register_format(_spec("trusty", sniff, trusted=True))
    path = tmp_path / "a.trusty"
    path.write_bytes(b"TRST")
    before = {t.ident for t in threading.enumerate()}
    [candidate] = vx.sniff(path)
    assert candidate.verdict == "yes"
    assert sniff.threads == [threading.get_ident()]
    assert not [t for t in threading.enumerate() if t.ident not in before]


def test_an_untrusted_sniff_runs_on_a_worker_thread(isolated_registry, tmp_path):
    sniff = _Recorder()
    vx.register_format(_spec("wary", sniff, trusted=False))
    path = tmp_path / "a.wary"
    path.write_bytes(b"WARY")
    [candidate] = vx.sniff(path)
    assert candidate.verdict == "yes"
    assert len(sniff.threads) == 1
    assert sniff.threads != [threading.get_ident()]


def test_without_a_budget_every_sniff_runs_on_the_callers_thread(
    isolated_registry, tmp_path, monkeypatch
):
    monkeypatch.setenv("VOXELIO_SNIFF_TIMEOUT", "0")
    sniff = _Recorder()
    vx.register_format(_spec("wary", sniff, trusted=False))
    path = tmp_path / "a.wary"
    path.write_bytes(b"WARY")
    vx.sniff(path)
    assert sniff.threads == [threading.get_ident()]


def test_a_trusted_sniff_over_its_budget_is_refused_and_marked_broken(
    isolated_registry, tmp_path, monkeypatch
):
    monkeypatch.setenv("VOXELIO_SNIFF_TIMEOUT", "0.05")
    sniff = _Recorder(delay=0.2)
    vx.register_format(_spec("slowtrust", sniff, trusted=True))
    path = tmp_path / "a.slowtrust"
    path.write_bytes(b"SLOW")
    with pytest.warns(PluginWarning, match="answered after .* over its budget of 0.05 s"):
        [candidate] = vx.sniff(path)
    assert candidate.verdict == "no"
    assert "VOXELIO_SNIFF_TIMEOUT" in candidate.evidence
    assert sniff.threads == [threading.get_ident()]
    entry = store.get_registry().entries["slowtrust"]
    assert not entry.ok and "over its budget" in entry.status
    # a format marked broken is not consulted again
    assert [c.name for c in vx.sniff(path) if c.accepted] == []
    assert len(sniff.threads) == 1


def test_sniff_trusted_must_be_a_bool():
    with pytest.raises(InvalidSpecError, match="sniff_trusted must be True or False"):
        FormatSpec(name="x", image_class="m:C", extensions=(".x",), sniff_trusted="yes")


@pytest.mark.parametrize("name", FIRST_PARTY)
def test_first_party_formats_declare_their_sniffs_trusted(name):
    entry = store.get_registry().entries.get(name)
    if entry is None:
        pytest.fail(f"first-party format {name!r} is not installed")
    assert entry.spec.sniff is not None
    assert entry.spec.sniff_trusted is True


def test_loading_a_first_party_file_starts_no_sniff_thread(tmp_path):
    import numpy as np

    path = tmp_path / "a.nii.gz"
    vx.save(vx.Nifti1Image(np.zeros((2, 3, 4), np.int16), np.eye(4)), path)
    code = (
        "import sys, threading, voxelio\n"
        "voxelio.load(sys.argv[1]).get_fdata()\n"
        "print(','.join(t.name for t in threading.enumerate()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert "voxelio-sniff" not in out.stdout

"""The plugin declaration and the sniff."""

from __future__ import annotations

import os
import struct
import subprocess
import sys

import numpy as np
import pytest

import voxelio as vx
from voxelio.registry.spec import validate_spec
from voxelio_mgh.plugin import MGH, sniff


def prefix(version=1, dims=(4, 5, 6, 1), code=3) -> bytes:
    return struct.pack(">6i", version, *dims, code) + bytes(66)


def test_spec_is_valid_and_registered():
    assert validate_spec(MGH) == []
    info = {f.name: f for f in vx.formats()}["mgh"]
    assert info.ok and info.can_read and info.can_write
    assert set(info.extensions) == {".mgh", ".mgz"}
    assert set(info.dtypes) == {"uint8", "int16", "uint16", "int32", "float32"}
    assert vx.MGHImage.__name__ == "MGHImage" and vx.MGHHeader.__name__ == "MGHHeader"


def test_spec_dtypes_match_the_header():
    from voxelio.dtypes import supported_np_types

    assert {np.dtype(t).name for t in supported_np_types(vx.MGHImage)} == set(MGH.dtypes)


def test_entry_module_imports_nothing_heavy():
    code = (
        "import sys, voxelio_mgh.plugin; "
        "heavy = ('numpy', 'voxelio_mgh.image', 'voxelio_mgh.header'); "
        "bad = [m for m in heavy if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["a.mgh", "a.mgz", "A.MGZ", "dir/b.Mgh"])
def test_sniff_weak_yes_for_plausible_header(name):
    said = sniff(prefix(), name)
    assert said.verdict == "weak" and "4x5x6" in said.evidence


@pytest.mark.parametrize("name", [None, "a.nii", "a.mgh.gz", "mgh", "a.img"])
def test_sniff_abstains_for_other_names(name):
    assert sniff(prefix(), name) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x00\x01",
        prefix(version=2),
        prefix(dims=(0, 1, 1, 1)),
        prefix(dims=(4, -5, 6, 1)),
        prefix(code=2),
        prefix(code=99),
        b"\x5c\x01\x00\x00" + bytes(100),  # a little-endian NIfTI-1 header start
    ],
)
def test_sniff_says_no_to_junk(data):
    assert sniff(data, "x.mgz").verdict == "no"


def test_sniff_is_total_on_random_prefixes():
    rng = np.random.default_rng(0)
    for n in range(0, 120, 7):
        for _ in range(20):
            said = sniff(rng.integers(0, 256, n, dtype=np.uint8).tobytes(), "r.mgh")
            assert said is None or said.verdict in ("yes", "weak", "no")


def test_load_reports_candidates(tmp_path):
    path = tmp_path / "x.mgz"
    vx.MGHImage(np.zeros((2, 2, 2), np.uint8), None).to_filename(path)
    best = vx.sniff(path)[0]
    assert best.name == "mgh" and best.verdict == "weak"
    assert vx.load(path).format_name == "mgh"
    assert os.path.getsize(path) > 0

"""`make demo` runs the main job: write, load (auto-detected), convert."""

from __future__ import annotations

import subprocess
import sys


def test_demo_writes_loads_and_converts_every_writable_format(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "voxelio.demo", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "demo finished" in out.stdout and "DIFFER" not in out.stdout
    written = sorted(p.name for p in tmp_path.iterdir())
    assert any(name.startswith("sample_toy.toy") for name in written)
    # the NIfTI-2 plugin's formats are written and detected like the others
    samples = (("nifti2", "sample_nifti2.nii.gz"), ("nifti2-pair", "sample_nifti2-pair.img"))
    for fmt, name in samples:
        assert name in written
        assert any(line.split()[:2] == [name, fmt] for line in out.stdout.splitlines())
    assert any(name.startswith("converted_") for name in written)
    assert "voxels equal, world coordinates equal" in out.stdout

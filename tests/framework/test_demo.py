"""`make demo` runs the main job: write, load (auto-detected), convert."""

from __future__ import annotations

import os
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
    assert "demo finished" in out.stdout and "FAILURES" not in out.stdout
    written = sorted(p.name for p in tmp_path.iterdir())
    assert any(name.startswith("sample_toy.toy") for name in written)
    # the NIfTI-2 plugin's formats are written and detected like the others
    samples = (("nifti2", "sample_nifti2.nii.gz"), ("nifti2-pair", "sample_nifti2-pair.img"))
    for fmt, name in samples:
        assert name in written
        assert any(line.split()[:2] == [name, fmt] for line in out.stdout.splitlines())
    assert any(name.startswith("converted_") for name in written)
    assert "voxels equal, world coordinates equal" in out.stdout


ZOOMS_ONLY_PLUGIN = '''
"""A well-behaved third-party format that stores voxel sizes but no full affine."""
import numpy as np
from voxelio.plugin import FormatSpec, hookimpl
from voxelio_toy.image import ToyImage


class ZoomsOnlyImage(ToyImage):
    valid_exts = (".zmo",)
    files_types = (("image", ".zmo"),)

    def _affine2header(self):
        super()._affine2header()
        self.header.set_affine(np.diag(list(self.header.get_zooms()[:3]) + [1.0]))


@hookimpl
def voxelio_formats():
    return [FormatSpec(name="zoomsonly", image_class=ZoomsOnlyImage, extensions=(".zmo",),
                       files_types=(("image", ".zmo"),), dtypes=("int16", "float32"))]
'''


def test_demo_reports_what_a_format_cannot_keep_and_succeeds(tmp_path):
    (tmp_path / "zoomsonly_plugin.py").write_text(ZOOMS_ONLY_PLUGIN)
    env = dict(os.environ, VOXELIO_PLUGINS="zoomsonly_plugin",
               PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    out_dir = tmp_path / "out"
    out = subprocess.run([sys.executable, "-m", "voxelio.demo", str(out_dir)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    line = next(ln for ln in out.stdout.splitlines()
                if ln.split()[:1] == ["converted_zoomsonly.zmo"])
    assert "could not keep: the full affine (voxel sizes kept)" in line
    # the source of the conversions is a format that kept the whole affine
    assert "converting sample_zoomsonly" not in out.stdout
    assert "voxels equal, world coordinates equal" in out.stdout


def users_environment() -> dict:
    """os.environ without the test plugins the root conftest.py put on PYTHONPATH."""
    parts = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    kept = [p for p in parts if p and p != os.environ.get("VOXELIO_TEST_PLUGINS_DIR")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(kept))


def test_users_environment_shows_only_the_real_formats_and_no_warnings(tmp_path):
    # the test-only plugins are not installed in the environment the tests run in
    out = subprocess.run([sys.executable, "-m", "voxelio.demo", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, env=users_environment())
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stderr == ""
    first = out.stdout.splitlines()[0]
    names = first.partition("(")[2].rstrip(")").split(", ")
    assert names == ["analyze", "mgh", "nifti1", "nifti1-pair", "nifti2", "nifti2-pair"]
    listed = subprocess.run([sys.executable, "-m", "voxelio", "formats"], capture_output=True,
                            text=True, timeout=120, env=users_environment())
    assert listed.returncode == 0 and listed.stderr == ""
    assert "toy" not in listed.stdout and "broken" not in listed.stdout

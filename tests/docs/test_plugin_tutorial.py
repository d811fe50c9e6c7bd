"""The plugin-author tutorial's code works as docs/plugin-authors/tutorial.md says.

The worked example lives in docs/plugin-authors/example/: a one-module
plugin (``labformat.py`` and its conformance test) and the files that turn
the output of ``voxelio new-plugin lab`` into the LAB distribution
(``voxelio-lab/``). Each test runs what the page tells a reader to run, in
a fresh process and a copy of the files, as the reader would.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import voxelio as vx

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "plugin-authors" / "example"
LINT = ("-m", "ruff", "check", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "99")

#: what a script using the one-module plugin checks (run with VOXELIO_PLUGINS=labformat)
ROUND_TRIP = """
import numpy as np, voxelio as vx
from voxelio.errors import WriterError

data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
vx.save(vx.LabImage(data, np.diag([0.5, 0.5, 2.0, 1.0])), "a.lab.gz")
back = vx.load("a.lab.gz")
assert back.format_name == "lab" and type(back).__name__ == "LabImage"
assert back.get_data_dtype() == np.int16 and np.array_equal(back.dataobj, data)
assert np.array_equal(back.affine, np.diag([0.5, 0.5, 2.0, 1.0]))

values = np.linspace(-1, 1, 24, dtype=np.float32).reshape(2, 3, 4)
vx.save(vx.LabImage(values, None), "scaled.lab", dtype=np.int16)
scaled = vx.load("scaled.lab")
assert scaled.get_data_dtype() == np.int16 and scaled.dataobj.slope != 1
assert np.allclose(scaled.get_fdata(), values, atol=1e-4)

try:
    vx.save(back, "b.lab", dtype=np.float64)
except WriterError as err:
    assert "uint8, int16, float32" in str(err), err
else:
    raise AssertionError("float64 was saved")
print("round trip ok")
"""


def _env(pythonpath: Path, **extra: str) -> dict[str, str]:
    """A user's environment: no VOXELIO_* settings, no test-only plugins on the path."""
    parts = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    kept = [p for p in parts if p and p != os.environ.get("VOXELIO_TEST_PLUGINS_DIR")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXELIO_")}
    env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), *kept])
    env.update(extra)
    return env


def _run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300,
                          **kwargs)
    return done


def test_example_code_is_lint_clean():
    # each part as its author lints it (voxelio_lab is first-party in its distribution)
    for folder, paths in ((EXAMPLE, ("labformat.py", "test_labformat.py")),
                          (EXAMPLE / "voxelio-lab", (".",))):
        lint = _run(sys.executable, *LINT, *paths, cwd=folder)
        assert lint.returncode == 0, lint.stdout


def test_one_module_through_voxelio_plugins(tmp_path):
    env = _env(EXAMPLE, VOXELIO_PLUGINS="labformat")
    done = _run(sys.executable, "-c", ROUND_TRIP, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "round trip ok" in done.stdout
    listed = _run(sys.executable, "-m", "voxelio", "formats", env=env)
    lab = next(line for line in listed.stdout.splitlines() if line.startswith("lab "))
    assert "'labformat' (VOXELIO_PLUGINS)" in lab and ".lab (+.gz .bz2 .zst)" in lab
    assert "uint8 int16 float32" in lab and lab.rstrip().endswith("ok")
    # what LAB cannot keep is reported by the demo and by convert, not an error
    demo = _run(sys.executable, "-m", "voxelio.demo", tmp_path / "demo", env=env)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr
    converted = next(ln for ln in demo.stdout.splitlines() if "converted_lab.lab" in ln)
    assert converted.endswith("could not keep: the full affine (voxel sizes kept)")
    nifti = tmp_path / "demo" / "sample_nifti1.nii.gz"
    convert = _run(sys.executable, "-m", "voxelio", "convert", nifti, tmp_path / "c.lab",
                   env=env)
    assert convert.returncode == 0, convert.stderr
    assert "nifti1 -> lab" in convert.stdout
    assert "not kept: the full affine (voxel sizes kept)" in convert.stdout


def test_one_module_through_register_format(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    import labformat

    try:
        vx.register_format(labformat.LAB)
        data = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
        labformat.LabImage(data, np.diag([2.0, 3.0, 4.0, 1.0])).to_filename(tmp_path / "a.lab")
        back = vx.load(tmp_path / "a.lab")
        assert isinstance(back, labformat.LabImage)
        assert np.array_equal(back.dataobj, data)
        assert back.header.get_zooms() == (2.0, 3.0, 4.0)
        # the class attributes alone give the same spec, as the tutorial says
        vx.register_format(labformat.LabImage, name="lab", magic=[(0, labformat.MAGIC)],
                           sniff=labformat.sniff, sniff_bytes=6)
        info = next(f for f in vx.formats() if f.name == "lab")
        assert info.files_types == labformat.LAB.files_types
        assert ".lab" in info.extensions and set(info.dtypes) == set(labformat.DTYPES)
        assert vx.load(tmp_path / "a.lab").format_name == "lab"
        # the page's in-memory round trip
        img = labformat.LabImage(data, np.diag([0.5, 0.5, 2.0, 1.0]))
        file_map = labformat.LabImage.make_file_map({"image": io.BytesIO()})
        img.to_file_map(file_map)
        file_map["image"].fileobj.seek(0)
        copy = labformat.LabImage.from_file_map(file_map)
        assert np.array_equal(copy.dataobj, data) and np.array_equal(copy.affine, img.affine)
        # float64 data: the header's code table refuses them at once
        with pytest.raises(vx.HeaderDataError, match="uint8, int16, float32"):
            labformat.LabImage(np.zeros(3), np.eye(4))
    finally:
        vx.unregister_format("lab")


def test_one_module_passes_the_conformance_kit(tmp_path):
    for name in ("labformat.py", "test_labformat.py"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    env = _env(tmp_path)
    kit = _run(sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
               "test_labformat.py", cwd=tmp_path, env=env)
    assert kit.returncode == 0, kit.stdout[-3000:]
    assert "18 passed, 1 skipped" in kit.stdout
    assert "runtime-registered format: no entry module" in kit.stdout

    # loaded through VOXELIO_PLUGINS, the one module is the entry module: the
    # kit's purity check fails (it imports numpy), and only that check
    (tmp_path / "test_entry.py").write_text(
        "from voxelio.testing import FormatConformance\n"
        "import numpy as np\n\n\n"
        "class TestLab(FormatConformance):\n"
        "    format_name = 'lab'\n"
        "    affine = np.diag([0.5, 0.5, 2.0, 1.0])\n"
    )
    env["VOXELIO_PLUGINS"] = "labformat"
    entry = _run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "test_entry.py", cwd=tmp_path, env=env)
    assert "1 failed, 18 passed" in entry.stdout, entry.stdout[-3000:]
    assert "FAILED test_entry.py::TestLab::test_entry_module_import_is_pure" in entry.stdout


def test_distribution_made_from_the_scaffold(tmp_path):
    made = _run(sys.executable, "-m", "voxelio", "new-plugin", "lab", "--directory", tmp_path)
    assert made.returncode == 0, made.stderr
    root = tmp_path / "voxelio-lab"
    # the tutorial's step: replace the scaffold's example code by LAB's
    shutil.copytree(EXAMPLE / "voxelio-lab", root, dirs_exist_ok=True)
    lint = _run(sys.executable, *LINT, ".", cwd=root)
    assert lint.returncode == 0, lint.stdout

    site = tmp_path / "site"
    installed = _run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                     "--no-build-isolation", "--target", site, root)
    assert installed.returncode == 0, installed.stderr
    env = _env(site)
    listed = _run(sys.executable, "-m", "voxelio", "formats", env=env)
    lab = next(line for line in listed.stdout.splitlines() if line.startswith("lab "))
    assert "voxelio-lab 0.1.0" in lab and lab.rstrip().endswith("ok")
    exported = _run(sys.executable, "-c", "import voxelio as vx; print(vx.LabHeader.__module__)",
                    env=env)
    assert exported.stdout.strip() == "voxelio_lab.image", exported.stderr

    tested = _run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
                  cwd=root, env=env)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert "20 passed" in tested.stdout

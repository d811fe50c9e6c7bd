"""`import voxelio` stays cheap: no entry-point scan, no plugin import."""

from __future__ import annotations

import subprocess
import sys

CHECK = r"""
import sys
import importlib.metadata as md
import importlib_metadata as imd

def refuse(*a, **k):
    raise AssertionError("entry points scanned at import time")

md.entry_points = refuse
imd.entry_points = refuse
import voxelio
watched = ("voxelio_", "voxelio.registry", "voxelio.api")
loaded = sorted(m for m in sys.modules if m.startswith(watched))
print(",".join(loaded))
"""


def test_import_voxelio_scans_nothing_and_imports_no_plugin():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_importtime_shows_no_plugin_modules():
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import voxelio"],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = [line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if "|" in line]
    assert "voxelio" in modules
    assert not [m for m in modules if m.startswith("voxelio_") or m.startswith("pluggy")]
    assert "numpy" not in modules  # even numpy waits until an image is made


def test_import_voxelio_imports_no_remote_or_scale_out_library():
    code = (
        "import sys, voxelio, voxelio.sources, voxelio.api\n"
        "heavy = ('fsspec', 's3fs', 'dask', 'distributed', 'xarray')\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

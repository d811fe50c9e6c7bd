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


LOAD_AND_LIST = r"""
import sys
import voxelio
voxelio.load(sys.argv[1]).get_fdata()
print(",".join(sorted(sys.modules)))
"""

#: what a load of a plain file name never needs once discovery is cached
NOT_FOR_A_LOAD = (
    "pluggy",  # hooks are called through pluggy only when a plugin implements one
    "importlib_metadata",
    "importlib.metadata",
    "voxelio.registry.hooks",
    "voxelio.registry.known",  # hints for failed loads
    "voxelio.registry.info",  # voxelio.formats() rows
    "voxelio.sources",  # URLs and file objects
    "shutil",
    "tempfile",
    "queue",  # the worker threads of untrusted sniffs
    "concurrent.futures",
    "logging",
    "threading",  # a small gzip file is inflated whole, on the calling thread
    "voxelio.writing",  # saves only
)


def test_a_load_with_a_warm_discovery_cache_imports_only_what_it_uses(tmp_path):
    import os

    import numpy as np

    import voxelio

    path = tmp_path / "tiny.nii.gz"
    voxelio.save(voxelio.Nifti1Image(np.zeros((2, 3, 4), np.int16), np.eye(4)), path)
    env = {**os.environ, "VOXELIO_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(2):  # the first run stores the discovery, the second uses it
        out = subprocess.run(
            [sys.executable, "-c", LOAD_AND_LIST, str(path)],
            capture_output=True, text=True, check=True, env=env,
        )
    loaded = set(out.stdout.strip().split(","))
    assert "voxelio_nifti1.image" in loaded  # the load did happen
    unwanted = {m for m in loaded if m.startswith(NOT_FOR_A_LOAD)}
    assert not unwanted


COUNT_AFTER_NUMPY = r"""
import json, sys
import numpy
before = set(sys.modules)
import voxelio
voxelio.load(sys.argv[1]).get_fdata()
print(json.dumps(sorted(set(sys.modules) - before)))
"""

#: modules outside voxelio and its plugins that a tiny load may import after numpy
#: (mmap: the memory-mapped data; errno and __future__ are small, and already
#: imported at start-up in an editable install)
ALLOWED_OTHERS = {"__future__", "errno", "mmap"}
#: voxelio and plugin modules a tiny .nii load imports (41 at the time of writing;
#: 43 with NIfTI-1's metadata and conversion mixins as bases of its header, 45 with
#: the sniff worker threads' module and the plain-read helpers imported by every
#: load, 48 with NIfTI-2's sniffer run on NIfTI-1 files, 57 with the plugins' entry
#: modules imported for their sniffers and the modules of other paths imported by
#: the modules that use them there, 60 with the writing, stream and archive code
#: imported by every load, 77 before dataclasses and named tuples left the
#: import); each costs a process 0.05-0.5 ms, so a new one on this path should be
#: a choice
MAX_VOXELIO_MODULES = 41
#: code a load never runs: saves, streams and URLs, ZIP archives of pairs, the
#: plugins' entry modules (their format declarations: the sniffers have modules
#: of their own), the hook marker, the codec threads (a small read has none);
#: affine helpers of saves and slicing, reads of file objects, the qform's
#: quaternion maths (this file has an sform), the metadata limits and the
#: extension records (it has no extensions), the wrappers of streams that cannot
#: seek (it is read by name); NIfTI-2's sniffer (its magic rules refuse a
#: NIfTI-1 file first); the worker threads of untrusted sniffs (every sniff here
#: is trusted); the plain-file range reads (the data are memory-mapped); the
#: failure messages, save, sniff/formats/registration, the images' save and
#: conversion methods, NIfTI-1's metadata and conversion methods (voxelio._lazy)
NOT_FOR_A_TINY_LOAD = {
    "voxelio.registry.refusals",
    "voxelio._api_save",
    "voxelio._api_registry",
    "voxelio._image_writing",
    "voxelio._image_conversion",
    "voxelio_nifti1.metadata",
    "voxelio_nifti1.conversion",
    "voxelio.registry.deadline",
    "voxelio._rangeread",
    "voxelio_nifti2",
    "voxelio_nifti2.sniffing",
    "voxelio_nifti2._layout",
    "voxelio.writing",
    "voxelio.imagestreams",
    "voxelio._archive",
    "voxelio_nifti1.plugin",
    "voxelio_nifti2.plugin",
    "voxelio_analyze.plugin",
    "voxelio.hookspecs",
    "voxelio.codecs.backends",
    "voxelio.geometry",
    "voxelio.codecs.access",
    "voxelio.limits",
    "voxelio_nifti1.affines",
    "voxelio_nifti1.extensions",
    "voxelio._streams",
}


def test_a_tiny_load_imports_few_modules_beyond_numpy(tmp_path):
    import os

    import numpy as np

    import voxelio

    path = tmp_path / "tiny.nii"
    voxelio.save(voxelio.Nifti1Image(np.zeros((8, 8, 8), np.int16), np.eye(4)), path)
    # the installed plugins only (the test session's toy and broken ones stay out)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and "VOXELIO" not in k}
    env["VOXELIO_CACHE_DIR"] = str(tmp_path / "cache")
    for _ in range(2):  # the first run stores the discovery, the second uses it
        done = subprocess.run([sys.executable, "-c", COUNT_AFTER_NUMPY, str(path)],
                              capture_output=True, text=True, check=True, env=env)
    import json

    new = json.loads(done.stdout)
    ours = [m for m in new if m.split(".")[0] == "voxelio" or m.startswith("voxelio_")]
    assert set(new) - set(ours) <= ALLOWED_OTHERS
    assert "voxelio_nifti1.image" in ours
    assert "voxelio_nifti1.sniffing" in ours  # the sniffer ran, from its own module
    assert len(ours) <= MAX_VOXELIO_MODULES, ours
    assert not NOT_FOR_A_TINY_LOAD & set(ours), NOT_FOR_A_TINY_LOAD & set(ours)
    # records and locks that cost every process at import
    assert not {"dataclasses", "threading", "pluggy"} & set(new)

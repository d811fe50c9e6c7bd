"""The I/O modules' old public names keep working, with a DeprecationWarning."""

from __future__ import annotations

import importlib
import sys

import pytest

import voxelio.filemaps
import voxelio.openfiles


@pytest.mark.parametrize(
    ("old", "new", "names"),
    [
        ("voxelio.files", voxelio.filemaps, ["FileHolder", "filespec_to_file_map"]),
        ("voxelio.fileio", voxelio.openfiles, ["reading", "writing", "strip_compression"]),
    ],
)
def test_old_module_names_warn_and_give_the_same_objects(old, new, names):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new.__name__):
        module = importlib.import_module(old)
    for name in names:
        assert getattr(module, name) is getattr(new, name)


def test_old_compression_for_name_is_save_compression():
    sys.modules.pop("voxelio.fileio", None)
    with pytest.warns(DeprecationWarning):
        fileio = importlib.import_module("voxelio.fileio")
    assert fileio.compression_for_name is voxelio.openfiles.save_compression
    assert fileio.compression_for_name("a.mgz", {".mgz": "gzip"}) == "gzip"
    assert fileio.compression_for_name("a.nii.BZ2") == "bz2"
    assert fileio.compression_for_name("a.nii") is None

"""The I/O modules' old public names keep working, with a DeprecationWarning that
says what to use and when the name goes (docs/api/deprecated.md lists them)."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import voxelio.filemaps
import voxelio.openfiles

DEPRECATED_PAGE = Path(__file__).parents[2] / "docs" / "api" / "deprecated.md"
OLD_MODULES = [
    ("voxelio.files", voxelio.filemaps, ["FileHolder", "filespec_to_file_map"]),
    ("voxelio.fileio", voxelio.openfiles, ["reading", "writing", "strip_compression"]),
]


def _import_warning(old: str) -> str:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning) as caught:
        importlib.import_module(old)
    assert len(caught) == 1
    return str(caught[0].message)


@pytest.mark.parametrize(("old", "new", "names"), OLD_MODULES)
def test_old_module_names_warn_and_give_the_same_objects(old, new, names):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new.__name__):
        module = importlib.import_module(old)
    for name in names:
        assert getattr(module, name) is getattr(new, name)


@pytest.mark.parametrize(("old", "new", "names"), OLD_MODULES)
def test_the_warning_names_the_replacement_and_the_version_documented(old, new, names):
    message = _import_warning(old)
    assert message.startswith(f"{old} is deprecated")
    assert f"import from {new.__name__}" in message
    version = re.search(r"removed in voxelio (\d+\.\d+)", message)
    assert version, message
    rows = [line for line in DEPRECATED_PAGE.read_text().splitlines()
            if line.startswith(f"| `{old}` (module)")]
    assert len(rows) == 1 and rows[0].rstrip(" |").endswith(f"voxelio {version.group(1)}")
    assert new.__name__ in rows[0]


@pytest.mark.parametrize("old", [old for old, _, _ in OLD_MODULES])
def test_a_script_importing_an_old_name_sees_the_warning_at_its_own_line(old):
    # Python shows DeprecationWarnings by default only when they point into
    # __main__: the warning must name the importing line, not import machinery
    done = subprocess.run([sys.executable, "-c", f"import {old}"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(f"<string>:1: DeprecationWarning: {old} is deprecated")


def test_old_compression_for_name_is_save_compression():
    sys.modules.pop("voxelio.fileio", None)
    with pytest.warns(DeprecationWarning, match="compression_for_name is now save_compression"):
        fileio = importlib.import_module("voxelio.fileio")
    assert fileio.compression_for_name is voxelio.openfiles.save_compression
    assert fileio.compression_for_name("a.mgz", {".mgz": "gzip"}) == "gzip"
    assert fileio.compression_for_name("a.nii.BZ2") == "bz2"
    assert fileio.compression_for_name("a.nii") is None

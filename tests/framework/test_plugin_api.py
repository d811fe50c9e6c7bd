"""voxelio.plugin: the plugin-author API, cheap for entry modules, the only import of plugins."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import voxelio.plugin as api

#: first-party plugins (and the toy test plugin), with the plugins each may build on
PLUGINS = {
    "voxelio_analyze": (),
    "voxelio_nifti1": ("voxelio_analyze",),
    "voxelio_mgh": (),
    "voxelio_nifti2": ("voxelio_nifti1",),
    "voxelio_toy": (),
}

#: the names voxelio.plugin promises without numpy (some imported on first use too)
CHEAP = [name for name in api.__all__ if name not in api._NEEDS_NUMPY]


def run(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    return json.loads(done.stdout)


def test_what_an_entry_module_needs_imports_no_numpy():
    loaded = run(
        "import json, sys\n"
        f"from voxelio.plugin import {', '.join(CHEAP)}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'numpy')))\n"
    )
    assert loaded == []


def test_a_heavy_name_is_imported_on_first_use():
    loaded = run(
        "import json, sys\n"
        "import voxelio.plugin as api\n"
        "before = 'voxelio.image' in sys.modules\n"
        "api.SpatialImage\n"
        "print(json.dumps([str(before), str('voxelio.image' in sys.modules)]))\n"
    )
    assert loaded == ["False", "True"]


def test_every_name_is_the_framework_object():
    from voxelio import (
        codes,
        errors,
        filemaps,
        hookspecs,
        image,
        limits,
        proxy,
        registry,
        structheader,
        writing,
    )

    assert {"FormatSpec", "SniffResult", "YES", "WEAK", "NO", "hookimpl"} <= set(CHEAP)
    assert {"SpatialImage", "StructHeader", "ArrayProxy", "DtypeTable"} <= set(api._NEEDS_NUMPY)
    assert set(api.__all__) <= set(dir(api))
    for name in api.__all__:
        assert getattr(api, name) is not None, name
    assert api.SpatialImage is image.SpatialImage
    assert api.StructHeader is structheader.StructHeader
    assert api.WARNING == structheader.WARNING
    assert api.DtypeTable is codes.DtypeTable
    assert api.ArrayProxy is proxy.ArrayProxy
    assert api.plan_storage is writing.plan_storage
    assert api.FileHolder is filemaps.FileHolder
    assert api.hookimpl is hookspecs.hookimpl
    assert api.limits is limits and api.MetadataBudget is limits.MetadataBudget
    assert {"hookimpl", "limits", "MetadataBudget"} <= set(api._DEFERRED)
    assert api.FormatSpec is registry.FormatSpec
    assert api.ImageFileError is errors.ImageFileError
    assert (api.YES, api.WEAK, api.NO) == ("yes", "weak", "no")
    assert str(api.RGB.descr).replace("|", "") == api.RGB_DTYPE


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'Nifti1Image'"):
        api.Nifti1Image  # noqa: B018


def _package_files(package: str) -> list[Path]:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, package
    folder = Path(next(iter(spec.submodule_search_locations)))
    return sorted(folder.rglob("*.py"))


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "voxelio":  # from voxelio import x: the module voxelio.x
                found += [(node.lineno, f"voxelio.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(PLUGINS))
def test_plugins_import_from_the_framework_only_voxelio_plugin(package):
    allowed = {package, *PLUGINS[package]}
    problems = []
    files = _package_files(package)
    assert any(path.name == "plugin.py" for path in files)
    for path in files:
        for line, module in _imported_modules(path):
            top = module.split(".")[0]
            framework = top == "voxelio" and module != "voxelio.plugin"
            other_plugin = top.startswith("voxelio_") and top not in allowed
            if framework or other_plugin:
                problems.append(f"{path.name}:{line} imports {module}")
    assert not problems, "\n".join(problems)


def test_the_import_check_sees_what_it_must_refuse(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from voxelio.plugin import FormatSpec\n"
        "from voxelio import codecs\n"
        "def later():\n"
        "    from voxelio.registry.spec import YES\n"
        "    import voxelio_mgh.header\n"
    )
    assert _imported_modules(sample) == [
        (1, "voxelio.plugin"), (2, "voxelio.codecs"), (4, "voxelio.registry.spec"),
        (5, "voxelio_mgh.header"),
    ]


def test_first_party_plugins_are_importable():
    for package in PLUGINS:
        assert importlib.import_module(f"{package}.plugin").voxelio_formats

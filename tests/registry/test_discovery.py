"""Real entry-point discovery with the test distributions pip-installed from
tests/plugins (voxelio-toy works; voxelio-broken-import, voxelio-broken-sniff
and voxelio-invalid-spec are broken on purpose), plus VOXELIO_PLUGINS and
VOXELIO_DISABLE_PLUGINS, each in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import voxelio as vx


def run_python(code: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VOXELIO_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env=full_env, cwd=cwd, timeout=120,
    )


def toy_file(path) -> str:
    img = vx.ToyImage(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.eye(4))
    vx.save(img, path)
    return str(path)


REPORT = """
import json, sys, warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import voxelio as vx
    img = vx.load(sys.argv[1] if len(sys.argv) > 1 else {path!r})
    vx.load({path!r})
    rows = {{f.name: [f.status, f.distribution] for f in vx.formats()}}
    vx.formats()
print(json.dumps({{
    "format": img.format_name,
    "rows": rows,
    "warnings": [str(w.message) for w in caught if w.category.__name__ == "PluginWarning"],
}}))
"""


def report(path, env=None) -> dict:
    done = run_python(REPORT.format(path=path), env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_working_plugin_loads_and_broken_ones_are_isolated(tmp_path):
    # a name no format claims: every format's content rules are consulted,
    # the faulty sniff among them (for a .toy name it would not run)
    path = tmp_path / "a.dat"
    os.rename(toy_file(tmp_path / "a.toy"), path)
    out = report(str(path))
    assert out["format"] == "toy"
    rows = out["rows"]
    assert rows["toy"] == ["ok", "voxelio-toy"]
    assert "No module named 'voxelio_no_such_dependency'" in rows["broken_import"][0]
    assert rows["broken_import"][0].startswith("broken:")
    assert "name 'Invalid Spec' must be a lower-case word" in rows["invalid_spec"][0]
    assert "sniff raised RuntimeError: this sniff always fails" in rows["broken-sniff"][0]


def test_each_broken_plugin_warns_exactly_once(tmp_path):
    warned = report(toy_file(tmp_path / "a.toy"))["warnings"]
    for plugin in ("voxelio-broken-import", "voxelio-invalid-spec", "voxelio-broken-sniff"):
        assert sum(plugin in w for w in warned) == 1, warned
    assert not any("voxelio-toy" in w for w in warned)


def test_disable_plugins_by_entry_point_module_or_distribution(tmp_path):
    tokens = "broken_import, voxelio_broken_sniff.plugin,voxelio-invalid-spec"
    env = {"VOXELIO_DISABLE_PLUGINS": tokens}
    out = report(toy_file(tmp_path / "a.toy"), env)
    assert out["warnings"] == []
    assert out["rows"]["broken_import"][0] == "disabled by VOXELIO_DISABLE_PLUGINS"
    assert "broken-sniff" not in out["rows"]


def test_disable_everything_then_nothing_reads_toy(tmp_path):
    path = toy_file(tmp_path / "a.toy")
    done = run_python(
        f"import voxelio as vx\ntry:\n    vx.load({path!r})\nexcept vx.ImageFileError as e:\n"
        "    print(e)",
        {"VOXELIO_DISABLE_PLUGINS": "*"},
    )
    assert "no formats are installed" in done.stdout


LAB_MODULE = '''
"""An in-house format, loaded through VOXELIO_PLUGINS without packaging."""
from voxelio.hookspecs import hookimpl
from voxelio.registry import FormatSpec

calls = []

@hookimpl
def voxelio_formats():
    return [
        FormatSpec(name="lab", image_class="voxelio_toy.image:ToyImage",
                   extensions=(".lab",), magic=[(0, b"VXT1")]),
        FormatSpec(name="future", image_class="x.y:Z", extensions=(".fut",), api_version=99),
    ]

@hookimpl
def voxelio_after_load(image, format_name):
    calls.append(format_name)

@hookimpl
def voxelio_environment_report():
    return {"lab": "1.0"}
'''


def test_voxelio_plugins_adds_a_plain_module(tmp_path):
    (tmp_path / "labfmt.py").write_text(LAB_MODULE)
    path = toy_file(tmp_path / "a.toy")
    os.rename(path, tmp_path / "a.lab")
    code = f"""
    import warnings, voxelio as vx, labfmt
    from voxelio.api import environment_report
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        img = vx.load({str(tmp_path / "a.lab")!r})
    rows = {{f.name: f.status for f in vx.formats()}}
    print(img.format_name, labfmt.calls)
    print(rows["future"])
    print(environment_report()["'labfmt' (VOXELIO_PLUGINS)"])
    print(sum("plugin API version 99" in str(w.message) for w in caught))
    """
    path_with_tests = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    done = run_python(code, {"VOXELIO_PLUGINS": "labfmt", "PYTHONPATH": path_with_tests})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "lab ['lab']"
    assert "written for plugin API version 99" in lines[1]
    assert lines[2] == "{'lab': '1.0'}"
    assert lines[3] == "1"


def test_voxelio_plugins_with_a_missing_module_is_reported(tmp_path):
    done = run_python(
        "import voxelio as vx\nprint({f.name: f.status for f in vx.formats()}['no_such_mod'])",
        {"VOXELIO_PLUGINS": "no_such_mod"},
    )
    assert "No module named 'no_such_mod'" in done.stdout
    assert "PluginWarning" in done.stderr


def test_import_voxelio_is_cheap():
    done = run_python(
        "import sys, voxelio\n"
        "heavy = [m for m in ('numpy', 'importlib_metadata', 'pluggy', 'voxelio_toy',"
        " 'voxelio.registry') if m in sys.modules]\nprint(heavy)"
    )
    assert done.stdout.strip() == "[]"


def test_toy_entry_module_imports_nothing_heavy():
    done = run_python(
        "import sys, voxelio.registry, voxelio.hookspecs, voxelio.plugin\n"
        "before = set(sys.modules)\n"
        "import voxelio_toy.plugin\nprint(sorted(set(sys.modules) - before))"
    )
    new = eval(done.stdout)
    assert "numpy" not in new and "voxelio_toy.image" not in new
    # the framework's spec checks run when the entry module makes its spec
    assert set(new) <= {"voxelio_toy", "voxelio_toy.plugin", "voxelio.registry.validation"}


def test_lazy_plugin_attributes():
    assert vx.ToyImage.__name__ == "ToyImage"
    assert vx.ToyHeader.__name__ == "ToyHeader"
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        vx.NoSuchThing  # noqa: B018


def test_missing_known_plugin_class_names_its_distribution():
    code = (
        "import voxelio as vx\n"
        "try:\n"
        "    vx.MGHImage\n"
        "except AttributeError as err:\n"
        "    print(err)\n"
    )
    env = {**os.environ, "VOXELIO_DISABLE_PLUGINS": "mgh"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    # installed but switched off: not "pip install"
    assert out.stdout.strip() == (
        "module 'voxelio' has no attribute 'MGHImage'; it is provided by the plugin "
        "distribution 'voxelio-mgh', which is installed but disabled by "
        "VOXELIO_DISABLE_PLUGINS (take it out of VOXELIO_DISABLE_PLUGINS to use it)")


def test_a_known_plugin_class_not_installed_says_pip_install(isolated_registry):
    # the registry as it is where voxelio-mgh was never installed
    isolated_registry.plugins[:] = [p for p in isolated_registry.plugins
                                    if p.distribution != "voxelio-mgh"]
    with pytest.raises(AttributeError, match=r"'voxelio-mgh', which is not installed "
                                             r"\(pip install voxelio-mgh\)"):
        vx.MGHImage  # noqa: B018

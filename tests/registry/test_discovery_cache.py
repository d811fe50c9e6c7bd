"""The discovery cache never hides a plugin installed, removed, edited or fixed.

Each run is a fresh process with its own cache folder (VOXELIO_CACHE_DIR);
plugins are real wheels installed with pip into a folder on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import voxelio as vx
from voxelio.registry import cache, get_registry

PLUGIN = '''
"""voxelio-cachetest: a toy-backed format for the discovery-cache tests."""
from voxelio.hookspecs import hookimpl
from voxelio.registry import FormatSpec


def sniff(prefix, filespec):
    return "yes" if prefix[:4] == b"VXT1" else "no"


@hookimpl
def voxelio_formats():
    return [FormatSpec(name="cachetest", image_class="voxelio_toy.image:ToyImage",
                       extensions=(".ctst",), sniff=sniff, sniff_bytes=4,
                       description="DESCRIPTION")]
'''


def build_wheel(folder, plugin_source: str, version: str = "0.1") -> str:
    """A wheel of distribution voxelio-cachetest with the given plugin module."""
    name = f"voxelio_cachetest-{version}"
    path = os.path.join(folder, f"{name}-py3-none-any.whl")
    files = {
        "voxelio_cachetest/__init__.py": "",
        "voxelio_cachetest/plugin.py": plugin_source,
        f"{name}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: voxelio-cachetest\nVersion: {version}\n"
        ),
        f"{name}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        f"{name}.dist-info/entry_points.txt": (
            '[voxelio.plugins]\ncachetest = voxelio_cachetest.plugin\n'
        ),
    }
    record = "".join(f"{f},,\n" for f in files) + f"{name}.dist-info/RECORD,,\n"
    files[f"{name}.dist-info/RECORD"] = record
    with zipfile.ZipFile(path, "w") as zf:
        for member, text in files.items():
            zf.writestr(member, text)
    return path


def pip_install(wheel: str, target) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--target", str(target), "--upgrade", wheel],
        check=True, capture_output=True, timeout=300,
    )


def uninstall(target) -> None:
    for entry in os.listdir(target):
        if entry.startswith("voxelio_cachetest"):
            shutil.rmtree(os.path.join(target, entry))


PROBE = """
import json, sys, warnings
warnings.simplefilter("ignore")
import voxelio as vx
rows = {f.name: [f.status, f.description, min(f.extensions, default="")] for f in vx.formats()}
print(json.dumps({"rows": rows, "imported": sorted(m for m in sys.modules
                  if m.startswith(("voxelio_", "pluggy")))}))
"""

LOAD = """
import json, sys, warnings
warnings.simplefilter("ignore")
import voxelio as vx
img = vx.load(sys.argv[1])
print(json.dumps({"format": img.format_name, "imported": sorted(m for m in sys.modules
                  if m.startswith(("voxelio_", "pluggy")))}))
"""


@pytest.fixture
def env(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOXELIO_")},
        "VOXELIO_CACHE_DIR": str(tmp_path / "cache"),
        # the test plugins (voxelio_toy...) stay importable, after the site folder
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
    }


def run(code: str, env: dict, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_install_edit_and_removal_are_seen_through_the_cache(tmp_path, env):
    site = tmp_path / "site"
    first = run(PROBE, env)
    assert "cachetest" not in first["rows"]
    assert os.listdir(tmp_path / "cache")  # a result was stored
    hit = run(PROBE, env)
    assert hit["rows"] == first["rows"]

    pip_install(build_wheel(tmp_path, PLUGIN), site)
    installed = run(PROBE, env)
    assert installed["rows"]["cachetest"] == ["ok", "DESCRIPTION", ".ctst"]
    again = run(PROBE, env)
    assert again["rows"]["cachetest"] == ["ok", "DESCRIPTION", ".ctst"]

    # the plugin's module edited in place (an editable install): seen
    plugin_file = site / "voxelio_cachetest" / "plugin.py"
    plugin_file.write_text(PLUGIN.replace("DESCRIPTION", "EDITED DESCRIPTION"))
    assert run(PROBE, env)["rows"]["cachetest"] == ["ok", "EDITED DESCRIPTION", ".ctst"]

    # upgraded to a version declaring another extension
    pip_install(build_wheel(tmp_path, PLUGIN.replace(".ctst", ".ct2"), "0.2"), site)
    assert run(PROBE, env)["rows"]["cachetest"] == ["ok", "DESCRIPTION", ".ct2"]

    uninstall(site)
    assert "cachetest" not in run(PROBE, env)["rows"]


def test_a_cached_load_imports_only_what_the_file_needs(tmp_path, env):
    pip_install(build_wheel(tmp_path, PLUGIN), tmp_path / "site")
    path = str(tmp_path / "a.ctst")
    vx.save(vx.ToyImage(np.zeros((2, 2, 2), np.int16), np.eye(4)), str(tmp_path / "a.toy"))
    os.rename(tmp_path / "a.toy", path)
    cold = run(LOAD, env, path)
    warm = run(LOAD, env, path)
    assert cold["format"] == warm["format"] == "cachetest"
    assert "voxelio_nifti1.plugin" in cold["imported"]  # discovery imported every plugin
    # from the cache: the sniff's module and the image class only, and no pluggy
    assert "voxelio_cachetest.plugin" in warm["imported"]
    assert not [m for m in warm["imported"] if m.startswith(("voxelio_nifti1", "pluggy"))]


def test_a_broken_plugin_fixed_later_is_picked_up(tmp_path, env):
    site = tmp_path / "site"
    needs = "import voxelio_cachetest_dependency\n" + PLUGIN
    pip_install(build_wheel(tmp_path, needs), site)
    first = run(PROBE, env)
    assert "No module named 'voxelio_cachetest_dependency'" in first["rows"]["cachetest"][0]
    assert "No module named" in run(PROBE, env)["rows"]["cachetest"][0]  # from the cache
    (site / "voxelio_cachetest_dependency.py").write_text("")
    assert run(PROBE, env)["rows"]["cachetest"] == ["ok", "DESCRIPTION", ".ctst"]


HOOKED = PLUGIN + '''

@hookimpl
def voxelio_after_load(image, format_name):
    image.extra["seen by"] = "cachetest hook"
'''

HOOK_LOAD = """
import json, sys, warnings
warnings.simplefilter("ignore")
import voxelio as vx
img = vx.load(sys.argv[1])
print(json.dumps({"extra": dict(img.extra), "pluggy": "pluggy" in sys.modules}))
"""


def test_hooks_of_a_cached_plugin_still_run(tmp_path, env):
    pip_install(build_wheel(tmp_path, HOOKED), tmp_path / "site")
    path = str(tmp_path / "a.toy")
    vx.save(vx.ToyImage(np.zeros((2, 2, 2), np.int16), np.eye(4)), path)
    for _ in range(2):  # live discovery, then from the cache
        out = run(HOOK_LOAD, env, path)
        assert out["extra"] == {"seen by": "cachetest hook"} and out["pluggy"]


def test_an_unwritable_cache_folder_is_no_error(tmp_path, env):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env["VOXELIO_CACHE_DIR"] = str(blocker / "cache")
    assert run(PROBE, env)["rows"]["toy"][0] == "ok"
    env["VOXELIO_CACHE_DIR"] = ""  # switched off
    assert run(PROBE, env)["rows"]["toy"][0] == "ok"
    assert not os.path.exists(tmp_path / "cache")


def test_every_installed_spec_survives_the_round_trip():
    specs = [e.spec for e in get_registry().entries.values() if e.plugin.source != "runtime"]
    assert specs
    for spec in specs:
        if spec.name == "broken-sniff":  # the test plugin whose sniff always raises
            continue
        data = cache.encode_spec(spec)
        assert data is not None, spec.name
        again = cache.decode_spec(data)
        assert again == spec
        if spec.sniff is not None:
            prefix = b"\0" * spec.sniff_bytes
            assert again.sniff(prefix, None) == spec.sniff(prefix, None)


def test_unnameable_sniff_functions_are_not_cached():
    spec = vx.FormatSpec(name="lam", image_class="a.b:C", extensions=(".lam",),
                         sniff=lambda prefix, name: None, sniff_bytes=1)
    assert cache.encode_spec(spec) is None
    by_class = vx.FormatSpec(name="cls", image_class=vx.ToyImage, extensions=(".cls",))
    assert cache.encode_spec(by_class) is None


def test_the_cache_key_follows_the_environment(monkeypatch):
    eps = []
    base = cache.fingerprint({}, eps)
    assert cache.fingerprint({"VOXELIO_PLUGINS": "x"}, eps) != base
    assert cache.fingerprint({"VOXELIO_DISABLE_PLUGINS": "*"}, eps) != base
    monkeypatch.syspath_prepend(textwrap.dedent("/nonexistent"))
    assert cache.fingerprint({}, eps) != base


NO_SCAN = """
import json, sys, warnings
warnings.simplefilter("ignore")
import importlib_metadata
from voxelio.registry import discovery

def refuse(*args, **kwargs):
    raise AssertionError("entry points read although the cache holds the result")

discovery._scan_entry_points = refuse
importlib_metadata.entry_points = refuse
import voxelio as vx
print(json.dumps({"rows": sorted(f.name for f in vx.formats())}))
"""


def test_a_warm_cache_is_found_without_reading_entry_points(tmp_path, env):
    first = run(PROBE, env)
    warm = run(NO_SCAN, env)
    assert warm["rows"] == sorted(first["rows"])
    assert "nifti1" in warm["rows"]


def test_an_entry_points_file_edited_in_place_is_seen(tmp_path, env):
    site = tmp_path / "site"
    pip_install(build_wheel(tmp_path, PLUGIN), site)
    assert "cachetest" in run(PROBE, env)["rows"]
    assert "cachetest" in run(PROBE, env)["rows"]  # from the cache
    # the folder on sys.path does not change; the distribution's own file does
    (site / "voxelio_cachetest-0.1.dist-info" / "entry_points.txt").write_text(
        "[console_scripts]\n"
    )
    assert "cachetest" not in run(PROBE, env)["rows"]


NO_DISCOVERY = """
import json, sys, warnings
warnings.simplefilter("ignore")
from voxelio.registry import discovery, store

def refuse(*args, **kwargs):
    raise AssertionError("plugins discovered again although the cache holds the result")

store.Registry._discover = refuse
import voxelio as vx
print(json.dumps({"rows": sorted(f.name for f in vx.formats()),
                  "pluggy": "pluggy" in sys.modules}))
"""


def run_in(folder, code: str, env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120, cwd=folder)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_changed_working_folder_finds_the_stored_result(tmp_path, env):
    # `python -c` puts the working folder on sys.path: a file made there changes
    # the quick key, but not what is installed
    work = tmp_path / "work"
    work.mkdir()
    first = run_in(work, PROBE, env)
    (work / "output-1.nii").write_bytes(b"")
    again = run_in(work, NO_DISCOVERY, env)  # entry points read, nothing imported
    assert again["rows"] == sorted(first["rows"]) and not again["pluggy"]
    warm = run_in(work, NO_SCAN, env)  # and stored under the new quick key
    assert warm["rows"] == sorted(first["rows"])


def test_each_quick_key_has_a_small_file_and_old_ones_go(tmp_path, env, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("VOXELIO_CACHE_DIR", str(folder))
    entry = {"key": ("k",), "quick": None, "files": (), "plugins": []}
    for i in range(cache.MAX_ENTRIES + 3):
        cache.remember_quick(entry, ("quick", i))
        os.utime(cache._quick_file(str(folder), ("quick", i)), ns=(i * 10**9, i * 10**9))
    cache.remember_quick(entry, ("quick", "last"))
    kept = sorted(p.name for p in folder.iterdir() if "-q" in p.name)
    assert len(kept) == cache.MAX_ENTRIES
    assert cache.read(("quick", "last"), by="quick")["quick"] == ("quick", "last")
    assert cache.read(("quick", 0), by="quick") is None  # the oldest went
    assert cache.read(("quick", "other"), by="quick") is None


def test_a_module_made_in_an_earlier_folder_that_shadows_a_plugin_is_seen(tmp_path, env):
    site, front = tmp_path / "site", tmp_path / "front"
    front.mkdir()
    env = {**env, "PYTHONPATH": os.pathsep.join([str(front), env["PYTHONPATH"]])}
    pip_install(build_wheel(tmp_path, PLUGIN), site)
    assert run(PROBE, env)["rows"]["cachetest"][1] == "DESCRIPTION"
    assert run(PROBE, env)["rows"]["cachetest"][1] == "DESCRIPTION"  # from the cache
    # the same top-level name in a folder before the plugin's: Python imports it
    # instead; the entry points, and so the full key, are unchanged
    (front / "voxelio_cachetest").mkdir()
    (front / "voxelio_cachetest" / "__init__.py").write_text("")
    (front / "voxelio_cachetest" / "plugin.py").write_text(
        PLUGIN.replace("DESCRIPTION", "SHADOW"))
    assert run(PROBE, env)["rows"]["cachetest"][1] == "SHADOW"
    assert run(PROBE, env)["rows"]["cachetest"][1] == "SHADOW"  # and stored so

"""``voxelio new-plugin``: the written distribution installs and passes its own tests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from voxelio.scaffold import write_plugin


def without_test_plugins(extra: str) -> dict:
    """os.environ with ``extra`` first on PYTHONPATH and without the test plugins."""
    parts = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    kept = [p for p in parts if p and p != os.environ.get("VOXELIO_TEST_PLUGINS_DIR")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXELIO_")}
    env["PYTHONPATH"] = os.pathsep.join([extra, *kept])
    return env


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=300, **kwargs)


def test_new_plugin_installs_and_passes_its_tests(tmp_path):
    made = run(sys.executable, "-m", "voxelio", "new-plugin", "blob",
               "--directory", str(tmp_path))
    assert made.returncode == 0, made.stderr
    root = tmp_path / "voxelio-blob"
    assert f"wrote {root}" in made.stdout
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == ["README.md", "pyproject.toml", "tests/test_conformance.py",
                     "voxelio_blob/__init__.py", "voxelio_blob/image.py",
                     "voxelio_blob/plugin.py"]
    assert '[project.entry-points."voxelio.plugins"]\nblob = "voxelio_blob.plugin"' in (
        root / "pyproject.toml").read_text()
    # the entry module imports only the plugin-author API
    plugin_source = (root / "voxelio_blob" / "plugin.py").read_text()
    imports = [ln for ln in plugin_source.splitlines() if ln.startswith(("import ", "from "))]
    assert imports == ["from __future__ import annotations",
                       "from voxelio.plugin import NO, YES, FormatSpec, SniffResult, hookimpl"]
    lint = run(sys.executable, "-m", "ruff", "check", "--isolated", "--select", "E,F,W,I,B,UP",
               "--line-length", "99", ".", cwd=root)
    assert lint.returncode == 0, lint.stdout

    site = tmp_path / "site"
    installed = run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(site), str(root))
    assert installed.returncode == 0, installed.stderr
    env = without_test_plugins(str(site))
    listed = run(sys.executable, "-m", "voxelio", "formats", env=env)
    blob = next(ln for ln in listed.stdout.splitlines() if ln.startswith("blob "))
    assert "voxelio-blob 0.1.0" in blob and ".blob" in blob and blob.endswith("ok")

    tested = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
                 cwd=root, env=env)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert "20 passed" in tested.stdout


def test_new_plugin_refuses_bad_names_and_existing_folders(tmp_path):
    bad = run(sys.executable, "-m", "voxelio", "new-plugin", "Not-A-Name",
              "--directory", str(tmp_path))
    assert bad.returncode == 1  # the CLI's "the command failed" status
    assert "must be a lower-case word" in bad.stderr
    write_plugin("blob", tmp_path)
    with pytest.raises(FileExistsError):
        write_plugin("blob", tmp_path)
    again = run(sys.executable, "-m", "voxelio.scaffold", "blob", str(tmp_path))
    assert again.returncode == 2 and "exists" in again.stderr

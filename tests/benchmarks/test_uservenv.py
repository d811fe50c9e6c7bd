"""The start-up case's regular-install virtualenv is rebuilt exactly when the sources change."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def uservenv(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import uservenv

    root = tmp_path / "repo"
    (root / "framework" / "voxelio").mkdir(parents=True)
    (root / "framework" / "voxelio" / "api.py").write_text("x = 1\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'voxelio'\n")
    plugin = root / "plugins" / "toy"
    (plugin / "voxelio_toy").mkdir(parents=True)
    (plugin / "tests").mkdir()
    (plugin / "pyproject.toml").write_text("[project]\nname = 'voxelio-toy'\n")
    (plugin / "voxelio_toy" / "plugin.py").write_text("y = 1\n")
    (plugin / "tests" / "test_toy.py").write_text("z = 1\n")
    (root / "plugins" / "notes").mkdir()  # not a project: no pyproject.toml
    monkeypatch.setattr(uservenv, "ROOT", str(root))
    yield uservenv, root
    sys.modules.pop("uservenv", None)


def test_the_projects_are_the_framework_and_each_plugin(uservenv):
    module, root = uservenv
    assert module._local_projects() == [str(root), str(root / "plugins" / "toy")]


def test_a_source_edit_changes_the_hash_and_tests_do_not(uservenv):
    module, root = uservenv
    first = module.source_hash()
    assert module.source_hash() == first
    (root / "plugins" / "toy" / "tests" / "test_toy.py").write_text("z = 2\n")
    assert module.source_hash() == first
    (root / "plugins" / "toy" / "voxelio_toy" / "plugin.py").write_text("y = 2\n")
    second = module.source_hash()
    assert second != first
    (root / "framework" / "voxelio" / "new.py").write_text("")
    assert module.source_hash() != second


def test_an_up_to_date_virtualenv_is_reused_without_running_pip(uservenv, tmp_path, monkeypatch):
    module, _ = uservenv
    venv = tmp_path / "cache" / "user-venv"
    exe = venv / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    exe.parent.mkdir(parents=True)
    exe.write_text("")
    (venv / ".voxelio-sources").write_text(module.source_hash())
    monkeypatch.setattr(module, "_run", lambda cmd: pytest.fail(f"ran {cmd}"))
    assert module.python(str(tmp_path / "cache")) == str(exe)


def test_a_failed_install_says_why(uservenv, tmp_path):
    module, _ = uservenv
    with pytest.raises(RuntimeError, match="failed"):
        module._run([sys.executable, "-c", "import sys; sys.exit('no wheels here')"])

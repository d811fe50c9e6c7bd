"""Make the test-only plugins under tests/plugins discoverable, for the tests only.

The test plugins (a working toy format and three plugins broken on purpose)
are never installed into the user's environment (.venv): `make demo` and the
`voxelio` command there show only the real formats. For a test session they
are installed into a temporary folder the way an installer would lay them
out: a ``<name>-<version>.dist-info`` folder with ``METADATA`` and
``entry_points.txt`` next to the package. That folder goes first on
``sys.path`` (this process) and on ``PYTHONPATH`` (every subprocess a test
starts), so entry-point discovery finds them through its real code path.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import tomllib

ROOT = os.path.dirname(os.path.abspath(__file__))
TEST_PLUGINS = os.path.join(ROOT, "tests", "plugins")
#: where this session laid the test plugins out, for code that must hide
#: them again (the docs runner runs pages as a user's environment would)
TEST_PLUGINS_ENV = "VOXELIO_TEST_PLUGINS_DIR"
_state: dict[str, str] = {}


def _entry_points_text(project: dict) -> str:
    lines = []
    for group, entries in project.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {value}" for name, value in entries.items())
        lines.append("")
    return "\n".join(lines)


def install_test_plugins(target: str) -> list[str]:
    """Lay the distributions under tests/plugins out in ``target``; return their names."""
    names = []
    for folder in sorted(os.listdir(TEST_PLUGINS)):
        source = os.path.join(TEST_PLUGINS, folder)
        try:
            with open(os.path.join(source, "pyproject.toml"), "rb") as f:
                config = tomllib.load(f)
        except FileNotFoundError:
            continue
        project = config["project"]
        dist = project["name"].replace("-", "_")
        info = os.path.join(target, f"{dist}-{project['version']}.dist-info")
        os.makedirs(info)
        with open(os.path.join(info, "METADATA"), "w", encoding="utf-8") as f:
            f.write(f"Metadata-Version: 2.1\nName: {project['name']}\n"
                    f"Version: {project['version']}\n\n")
        with open(os.path.join(info, "entry_points.txt"), "w", encoding="utf-8") as f:
            f.write(_entry_points_text(project))
        for package in config["tool"]["setuptools"]["packages"]:
            os.symlink(os.path.join(source, package), os.path.join(target, package))
        names.append(project["name"])
    return names


def _install_for_this_session() -> None:
    # at import, not in pytest_configure: the conftest files of the test
    # folders (loaded before pytest_configure runs) import the toy plugin
    target = tempfile.mkdtemp(prefix="voxelio-test-plugins-")
    install_test_plugins(target)
    _state["target"] = target
    _state["pythonpath"] = os.environ.get("PYTHONPATH", "")
    os.environ[TEST_PLUGINS_ENV] = target
    sys.path.insert(0, target)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [target, _state["pythonpath"]]))
    registry = sys.modules.get("voxelio.registry.store")
    if registry is not None:  # discovered before the folder was on sys.path
        registry.refresh()


_install_for_this_session()


def pytest_unconfigure(config) -> None:
    target = _state.pop("target", None)
    if target:
        os.environ["PYTHONPATH"] = _state["pythonpath"]
        os.environ.pop(TEST_PLUGINS_ENV, None)
        shutil.rmtree(target, ignore_errors=True)

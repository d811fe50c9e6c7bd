"""The documentation site builds with warnings as errors and holds what it promises.

One real ``sphinx-build -W --keep-going`` of ``docs/`` (in a subprocess, as
``make docs`` runs it) is shared by every test of this module. The checks
read the built HTML and the object inventory (``objects.inv``) Sphinx writes,
and take their expectations from the code (the public modules' names, the
command's parser), so a new sub-command or public name without its reference
entry fails here.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import voxelio
from voxelio.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
from cli_reference import subcommands  # noqa: E402 (docs/_ext is no package)

_INVENTORY_LINE = re.compile(r"(.+?)\s+(\S+)\s+(-?\d+)\s+(\S*)\s+(.*)")
# modules that are not public API, and why; every other module whose name has
# no leading underscore must have its reference entry
NOT_REFERENCED = {
    "voxelio.__main__": "python -m voxelio: the command, see the CLI reference",
    "voxelio.demo": "make demo",
    "voxelio.files": "deprecated name of voxelio.filemaps (docs/api/files.rst says so)",
    "voxelio.fileio": "deprecated name of voxelio.openfiles (docs/api/files.rst says so)",
    "voxelio.slicing": "the proxy's byte planning, an implementation detail",
    "voxelio.integrations": "a namespace: its three modules are documented",
    "voxelio.scaffold.__main__": "python -m voxelio.scaffold: the new-plugin command",
}
# the CLI module's other functions (cmd_*) are internal; the reference names these
CLI_NAMES = ["main", "build_parser"]
SKIPPED_SOURCE_DIRS = {"_build", "_ext", "_scripts", "_generated"}


def _user_environment() -> dict[str, str]:
    """os.environ without the test-only plugins the root conftest.py adds."""
    env = dict(os.environ)
    parts = env.get("PYTHONPATH", "").split(os.pathsep)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in parts if p and p != os.environ.get("VOXELIO_TEST_PLUGINS_DIR"))
    env.pop("VOXELIO_DOCS_INTERSPHINX", None)  # offline, as in make test
    return env


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs-site")
    html = out / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(out / "doctrees"), str(DOCS), str(html)],
        capture_output=True, text=True, env=_user_environment(), cwd=ROOT, timeout=900)
    assert result.returncode == 0, (
        f"sphinx-build -W failed ({result.returncode}):\n{result.stderr}\n{result.stdout}")
    return html


def _inventory(html: Path) -> dict[tuple[str, str], str]:
    """``objects.inv`` as {(domain:role, name): page}; format v2: 4 text lines + zlib."""
    raw = (html / "objects.inv").read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = raw.index(b"\n", header_end) + 1
    entries = {}
    for line in zlib.decompress(raw[header_end:]).decode().splitlines():
        # "name domain:role priority uri display"; name and display may hold spaces
        match = _INVENTORY_LINE.match(line)
        assert match, line
        name, role, uri = match.group(1, 2, 4)
        entries[(role, name)] = uri.split("#")[0]
    return entries


@pytest.fixture(scope="module")
def inventory(site: Path) -> dict[tuple[str, str], str]:
    return _inventory(site)


def _source_pages() -> list[Path]:
    pages = []
    for path in DOCS.rglob("*"):
        relative = path.relative_to(DOCS)
        if relative.parts[0] in SKIPPED_SOURCE_DIRS or path.suffix not in {".md", ".rst"}:
            continue
        pages.append(relative)
    return pages


def test_every_source_page_is_built(site: Path) -> None:
    pages = _source_pages()
    assert Path("index.rst") in pages
    missing = [str(p) for p in pages if not (site / p.with_suffix(".html")).is_file()]
    assert not missing


@pytest.mark.parametrize("section", ["guide", "formats", "writing-plugins", "background", "api"])
def test_landing_page_links_every_section(site: Path, section: str) -> None:
    landing = (site / "index.html").read_text(encoding="utf-8")
    assert f'href="{section}/index.html"' in landing


def _commands(parser, path=()):
    for name, _summary, subparser in subcommands(parser):
        yield subparser
        yield from _commands(subparser, (*path, name))


def test_cli_reference_documents_every_subcommand_and_option(inventory) -> None:
    parser = build_parser()
    commands = [parser, *_commands(parser)]
    assert len(commands) > 1
    for command in commands:
        label = "cli-" + command.prog.replace(" ", "-")
        assert inventory.get(("std:label", label)) == "api/cli.html", command.prog
        for action in command._actions:
            for option in action.option_strings:
                # Sphinx files `.. option::` under "<program, dashed>.<option>"
                key = ("std:cmdoption", f"{command.prog.replace(' ', '-')}.{option}")
                assert inventory.get(key) == "api/cli.html", key


def _public_modules() -> list[str]:
    """Every module of the voxelio package a user could mean to import.

    Submodules of a package that declares ``__all__`` (codecs, registry,
    testing) are its implementation: the package is the public surface.
    """
    found = ["voxelio"]
    for info in pkgutil.walk_packages(voxelio.__path__, "voxelio."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or info.name in NOT_REFERENCED:
            continue
        parent = importlib.import_module(".".join(parts[:-1]))
        if parent is not voxelio and hasattr(parent, "__all__"):
            continue
        found.append(info.name)
    return found


def _public_names(module_name: str) -> list[str]:
    if module_name == "voxelio.cli":
        return CLI_NAMES
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return [n for n in module.__all__
                if not inspect.ismodule(getattr(module, n))]
    return [name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
            and obj.__module__ == module_name]


def test_public_modules_are_found() -> None:
    modules = _public_modules()
    for expected in ["voxelio.api", "voxelio.image", "voxelio.registry", "voxelio.hookspecs",
                     "voxelio.testing", "voxelio.codecs", "voxelio.cli", "voxelio.plugin"]:
        assert expected in modules
    assert "voxelio.registry.dispatch" not in modules


@pytest.mark.parametrize("module_name", _public_modules())
def test_reference_documents_every_public_name(site: Path, inventory, module_name: str) -> None:
    page = inventory.get(("py:module", module_name))
    assert page and page.startswith("api/"), (
        f"{module_name} has no reference entry: add it to public_api_modules in docs/conf.py "
        "and a `.. public-api::` to a page in docs/api/ (or name it _private)")
    html = (site / page).read_text(encoding="utf-8")
    documented = {name for (role, name) in inventory if role.startswith("py:")}
    for name in _public_names(module_name):
        # its entry is on this page (id="voxelio.x.name"), or this page links
        # to the entry where it lives (href="...#voxelio.y.name")
        match = re.search(rf'(?:id="|#)((?:[\w]+\.)+{re.escape(name)})"', html)
        assert match, f"{module_name}.{name} is neither documented nor linked on {page}"
        assert match.group(1) in documented, match.group(1)

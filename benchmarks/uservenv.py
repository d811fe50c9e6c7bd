"""A virtualenv with voxelio installed the way users get it, for whole-process cases.

The development ``.venv`` installs the framework and the plugins in editable
mode: setuptools' editable finders run from ``.pth`` files at every
interpreter start (importing pathlib, re, urllib...) and sit on the import
path of the plugins, and other tools installed there lengthen every start
too. A user's ``pip install voxelio`` pays none of that, so the start-up case
runs both libraries (and the numpy-only floor) in a virtualenv of regular
installs: voxelio, its plugins and NiBabel, with the numpy, NiBabel and
codec versions of the running interpreter.

The virtualenv lives in the data cache folder and is reinstalled when the
sources of the framework or a plugin change (a hash of their files).
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: distributions pinned to the running interpreter's versions (what is timed)
PINNED = ("numpy", "nibabel", "isal", "zlib-ng", "pluggy", "importlib-metadata")


def _local_projects() -> list[str]:
    plugins = os.path.join(ROOT, "plugins")
    found = [
        os.path.join(plugins, name)
        for name in os.listdir(plugins)
        if os.path.isfile(os.path.join(plugins, name, "pyproject.toml"))
    ]
    return [ROOT, *sorted(found)]


def source_hash() -> str:
    """A hash of every source file of the framework and the plugins."""
    digest = hashlib.sha1()
    for project in _local_projects():
        top = project if project != ROOT else os.path.join(ROOT, "framework")
        files = [os.path.join(project, "pyproject.toml")]
        for folder, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "tests", "build"))
            files += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".py")]
        for path in files:
            digest.update(os.path.relpath(path, ROOT).encode())
            with open(path, "rb") as f:
                digest.update(f.read())
    pins = [f"{name}=={md.version(name)}" for name in PINNED if _installed(name)]
    digest.update(" ".join(pins).encode())
    return digest.hexdigest()


def _installed(name: str) -> bool:
    try:
        md.version(name)
    except md.PackageNotFoundError:
        return False
    return True


def python(cache_dir: str) -> str:
    """The interpreter of an up-to-date regular-install virtualenv under ``cache_dir``.

    Raises
    ------
    RuntimeError
        If the virtualenv cannot be made or installed into (no network and
        no local wheels, say); the message says why.
    """
    venv = os.path.join(cache_dir, "user-venv")
    exe = os.path.join(venv, "Scripts" if sys.platform == "win32" else "bin", "python")
    stamp = os.path.join(venv, ".voxelio-sources")
    wanted = source_hash()
    try:
        with open(stamp) as f:
            if f.read() == wanted and os.path.exists(exe):
                return exe
    except OSError:
        pass
    if not os.path.exists(exe):
        _run([sys.executable, "-m", "venv", venv])
    pins = [f"{name}=={md.version(name)}" for name in PINNED if _installed(name)]
    _run([exe, "-m", "pip", "install", "--quiet", *pins])
    # --force-reinstall: the version numbers of the local projects do not change
    _run([exe, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
          *_local_projects()])
    with open(stamp, "w") as f:
        f.write(wanted)
    return exe


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed:\n{tail}")

"""``voxelio new-plugin NAME``: write a publishable format-plugin distribution.

The distribution has a ``pyproject.toml`` declaring the ``voxelio.plugins``
entry point, an entry module (the FormatSpec; imports only
:mod:`voxelio.plugin`), an image module with a reader and a writer for a
small example format, a README and tests that run the conformance kit
(:class:`voxelio.testing.FormatConformance`). It installs and passes its
tests as written; replace the example layout with your format's.
"""

from __future__ import annotations

import keyword
import os
import re
import string
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

__all__ = ["main", "write_plugin"]

_NAME_RE = re.compile(r"^[a-z][a-z0-9]*$")

#: template (under templates/) -> path in the new distribution
_FILES = {
    "pyproject.toml": "pyproject.toml",
    "README.md": "README.md",
    "package/__init__.py": "{package}/__init__.py",
    "package/plugin.py": "{package}/plugin.py",
    "package/image.py": "{package}/image.py",
    "tests/test_conformance.py": "tests/test_conformance.py",
}


def write_plugin(name: str, directory: str | os.PathLike = ".") -> Path:
    """Write the distribution ``voxelio-NAME`` into ``directory``; return its folder.

    Parameters
    ----------
    name : str
        The format name: a lower-case word of letters and digits (``blob``).
        The distribution is ``voxelio-NAME``, the package ``voxelio_NAME``,
        the suffix ``.NAME``.
    directory : str or os.PathLike
        Where the distribution folder is created (it must not exist yet).

    Raises
    ------
    ValueError
        If ``name`` is not a usable format name.
    FileExistsError
        If the distribution folder exists already.
    """
    if not _NAME_RE.match(name) or keyword.iskeyword(name):
        raise ValueError(f"plugin name {name!r} must be a lower-case word of letters and digits")
    package = f"voxelio_{name}"
    root = Path(directory) / f"voxelio-{name}"
    root.mkdir(parents=True, exist_ok=False)
    values = {
        "name": name,
        "package": package,
        "distribution": f"voxelio-{name}",
        "Class": name.capitalize(),
        "magic": (name.upper()[:3].ljust(3, "X") + "1"),
    }
    templates = resources.files(__package__) / "templates"
    for source, target in _FILES.items():
        # .tmpl: the templates are not Python modules of voxelio (nor linted as such)
        text = (templates / f"{source}.tmpl").read_text(encoding="utf-8")
        path = root / target.format(**values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(string.Template(text).substitute(values), encoding="utf-8")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m voxelio.scaffold NAME [DIRECTORY]``; return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not 1 <= len(args) <= 2:
        print("usage: python -m voxelio.scaffold NAME [DIRECTORY]", file=sys.stderr)
        return 2
    try:
        root = write_plugin(*args)
    except (ValueError, FileExistsError) as err:
        print(f"voxelio: {err}", file=sys.stderr)
        return 2
    print(f"wrote {root}: pip install -e {root} && pytest {root / 'tests'}")
    return 0

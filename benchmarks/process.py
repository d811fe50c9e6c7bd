"""Whole-process cost: start Python, import, load a tiny file, get_fdata()."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import timing

SNIPPET = "import {lib}; {lib}.load({path!r}).get_fdata()"


def runner(lib: str, path: str) -> Callable[[], None]:
    """A callable that runs the one-liner for ``lib`` in a fresh interpreter."""
    cmd = [sys.executable, "-c", SNIPPET.format(lib=lib, path=path)]

    def run() -> None:
        subprocess.run(cmd, check=True, capture_output=True)

    return run


def numpy_only() -> Callable[[], None]:
    """The floor of any numpy-based reader: start Python and import numpy."""
    cmd = [sys.executable, "-c", "import numpy"]

    def run() -> None:
        subprocess.run(cmd, check=True, capture_output=True)

    return run


def compare(path: str, repeats: int, warmup: int = 1) -> timing.Pair:
    """Alternate voxelio and NiBabel one-liners on ``path``."""
    return timing.alternate(runner("voxelio", path), runner("nibabel", path), repeats, warmup)

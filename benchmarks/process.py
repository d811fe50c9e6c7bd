"""Whole-process cost: start Python, import, load a tiny file, get_fdata()."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import timing

SNIPPET = "import {lib}; {lib}.load({path!r}).get_fdata()"


def runner(lib: str, path: str, python: str = sys.executable) -> Callable[[], None]:
    """A callable that runs the one-liner for ``lib`` in a fresh interpreter."""
    cmd = [python, "-c", SNIPPET.format(lib=lib, path=path)]

    def run() -> None:
        subprocess.run(cmd, check=True, capture_output=True)

    return run


def numpy_only(python: str = sys.executable) -> Callable[[], None]:
    """The floor of any numpy-based reader: start Python and import numpy."""
    cmd = [python, "-c", "import numpy"]

    def run() -> None:
        subprocess.run(cmd, check=True, capture_output=True)

    return run


def compare(path: str, repeats: int, warmup: int = 1,
            python: str = sys.executable) -> tuple[timing.Pair, timing.Stats]:
    """Alternate voxelio, NiBabel and numpy-only processes (all run by ``python``).

    Returns the voxelio/NiBabel pair on ``path`` and the numpy-only floor,
    timed in the same loop (each of the three in turn first, second and
    last), so a slow spell of the machine meets all three alike.
    """
    return timing.alternate(runner("voxelio", path, python), runner("nibabel", path, python),
                            repeats, warmup, 0.0, floor=numpy_only(python))

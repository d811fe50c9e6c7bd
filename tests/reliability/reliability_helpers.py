"""Helpers for the reliability tests: small real images and a FIFO watchdog."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator

import numpy as np

import voxelio as vx

#: seconds a FIFO may block a test before the watchdog unblocks it
FIFO_PATIENCE = 5.0


def volume(value: float, shape: tuple[int, ...] = (4, 5, 6)) -> np.ndarray:
    """A float32 volume whose every voxel says which save wrote it."""
    return np.full(shape, value, dtype=np.float32)


def nifti(value: float, shape: tuple[int, ...] = (4, 5, 6)) -> vx.SpatialImage:
    """A NIfTI-1 image whose data and affine both record ``value``."""
    affine = np.eye(4)
    affine[0, 3] = value
    return vx.Nifti1Image(volume(value, shape), affine)


def pair(value: float, shape: tuple[int, ...] = (4, 5, 6)) -> vx.SpatialImage:
    """A NIfTI-1 pair image whose data and affine both record ``value``."""
    affine = np.eye(4)
    affine[0, 3] = value
    return vx.Nifti1Pair(volume(value, shape), affine)


def leftovers(folder: os.PathLike | str) -> list[str]:
    """Hidden files a save may create (temp files, backups, journals)."""
    return sorted(n for n in os.listdir(folder) if n.startswith("."))


@contextlib.contextmanager
def fifo_watchdog(path: str) -> Iterator[threading.Event]:
    """Unblock anyone stuck opening the FIFO ``path`` after ``FIFO_PATIENCE`` s.

    The event yielded is set when the watchdog had to step in: the code
    under test blocked on the FIFO.
    """
    fired = threading.Event()
    done = threading.Event()

    def watch() -> None:
        if done.wait(FIFO_PATIENCE):
            return
        fired.set()
        # open both ends without blocking, so both a blocked reader and a blocked
        # writer wake up (a reader then sees end of file)
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
            time.sleep(0.5)  # long enough for a blocked open to see a writer
            os.close(fd)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield fired
    finally:
        done.set()
        thread.join()


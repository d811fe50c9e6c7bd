"""Fixtures for framework tests: images of the test-only toy format."""

from __future__ import annotations

import os

import numpy as np
import pytest

from voxelio_toy.image import ToyImage


@pytest.fixture
def affine() -> np.ndarray:
    aff = np.diag([2.0, 3.0, 4.0, 1.0])
    aff[:3, 3] = [-10.0, 5.0, 7.5]
    return aff


@pytest.fixture
def data() -> np.ndarray:
    return np.arange(2 * 3 * 4 * 5, dtype=np.int16).reshape((2, 3, 4, 5))


@pytest.fixture
def toy_file(tmp_path, data, affine) -> str:
    path = str(tmp_path / "sample.toy")
    ToyImage(data, affine).to_filename(path)
    return path


@pytest.fixture
def calls_on(monkeypatch):
    """``calls_on("open", path)``: a list that gets each ``os.<name>`` call made on ``path``."""

    def watch(function: str, path: str) -> list:
        made = []
        real = getattr(os, function)

        def counting(name, *args, **kwargs):
            if not isinstance(name, int) and os.fspath(name) == path:
                made.append(name)
            return real(name, *args, **kwargs)

        monkeypatch.setattr(os, function, counting)
        return made

    return watch

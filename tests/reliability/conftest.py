"""Fixtures for the reliability tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def fifo(tmp_path) -> str:
    path = str(tmp_path / "pipe")
    os.mkfifo(path)
    return path

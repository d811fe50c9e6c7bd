"""Fixtures for the codec tests."""

from __future__ import annotations

import pytest
from codec_helpers import smooth_noise


@pytest.fixture(scope="session")
def payload() -> bytes:
    return smooth_noise(3 * 512 * 1024 + 12345)


@pytest.fixture
def backend(codec_mode) -> str:
    """The codec tests' name for the shared ``codec_mode`` fixture ("fast" or "stdlib")."""
    return codec_mode

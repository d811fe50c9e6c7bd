"""Fixtures for the codec tests."""

from __future__ import annotations

import pytest
from codec_helpers import smooth_noise


@pytest.fixture(scope="session")
def payload() -> bytes:
    return smooth_noise(3 * 512 * 1024 + 12345)


@pytest.fixture(params=["fast", "stdlib"])
def backend(request, monkeypatch) -> str:
    """Run a test with the optional fast codecs and with the standard library only."""
    if request.param == "stdlib":
        monkeypatch.setenv("VOXELIO_STDLIB_CODECS", "1")
    else:
        monkeypatch.delenv("VOXELIO_STDLIB_CODECS", raising=False)
    return request.param

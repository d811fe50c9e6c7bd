"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["fast", "stdlib"])
def codec_mode(request, monkeypatch) -> str:
    """Run a test with the optional fast codecs ("fast") and with the standard library only."""
    if request.param == "stdlib":
        monkeypatch.setenv("VOXELIO_STDLIB_CODECS", "1")
    else:
        monkeypatch.delenv("VOXELIO_STDLIB_CODECS", raising=False)
    return request.param

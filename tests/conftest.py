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


#: FAST_READ_MIN under ``fast_readers_made``: reads of at least this many bytes
#: from the start of a single gzip stream may take ISA-L's gzip reader
FAST_READ_MIN_FOR_TESTS = 64 * 1024


@pytest.fixture
def fast_readers_made(monkeypatch) -> list[object]:
    """ISA-L gzip readers made by the code under test (each a fast pass from the start).

    The fast codecs are in use and FAST_READ_MIN is lowered to
    ``FAST_READ_MIN_FOR_TESTS``, so that small test files take that pass. The
    list stays empty where ISA-L's gzip reader is not installed.
    """
    from voxelio.codecs import backends, seek_index

    monkeypatch.delenv("VOXELIO_STDLIB_CODECS", raising=False)
    monkeypatch.setattr(seek_index, "FAST_READ_MIN", FAST_READ_MIN_FOR_TESTS)
    made: list[object] = []
    real = backends.fast_gzip_reader

    def spy(*args):
        reader = real(*args)
        if reader is not None:
            made.append(reader)
        return reader

    monkeypatch.setattr(backends, "fast_gzip_reader", spy)
    return made

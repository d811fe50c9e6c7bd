"""The examples on the format pages (docs/formats/*.md) run as written.

Each page's ``>>>`` examples are self-contained (they import numpy and
voxelio and write their own files), so they run here in an empty working
folder, as they would in a reader's session.
"""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

FORMATS = Path(__file__).resolve().parents[2] / "docs" / "formats"


@pytest.mark.parametrize("page", ["analyze.md", "nifti1.md", "mgh.md"])
def test_format_page_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(str(FORMATS / page), module_relative=False, report=True,
                              optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{page} has no examples"
    assert result.failed == 0, f"{result.failed} example(s) of {page} failed (see the output)"


@pytest.mark.parametrize("page", ["analyze.md", "nifti1.md", "mgh.md"])
def test_format_page_links_the_differences(page):
    # each page summarises its format's deliberate differences and links the details
    assert "](../differences.md)" in (FORMATS / page).read_text(encoding="utf-8")

"""What the format pages (docs/formats/*.md) must hold besides working examples.

Their ``>>>`` examples run with every other page's, through the docs runner
(docs/conftest.py, collected by ``make test``); here: that each page has
examples for it to run, and links the deliberate differences.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FORMATS = Path(__file__).resolve().parents[2] / "docs" / "formats"


@pytest.mark.parametrize("page", ["analyze.md", "nifti1.md", "mgh.md"])
def test_format_page_has_examples_for_the_docs_runner(page):
    lines = (FORMATS / page).read_text(encoding="utf-8").splitlines()
    assert any(line.startswith(">>> ") for line in lines), f"{page} has no examples"


@pytest.mark.parametrize("page", ["analyze.md", "nifti1.md", "mgh.md"])
def test_format_page_links_the_differences(page):
    # each page summarises its format's deliberate differences and links the details
    assert "](../differences.md)" in (FORMATS / page).read_text(encoding="utf-8")

"""docs/differences.md and the expected failures of the NiBabel API cases match one for one."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import nibabel.tests.test_spm99analyze as nib_spm99
import nibabel_expectations as expectations
import pytest
import test_nibabel_headers
import test_nibabel_image_api
import test_nibabel_images
import test_nibabel_proxy_api

from voxelio.dtypes import supported_np_types
from voxelio_nifti1.header import Nifti1Header

PAGE = Path(__file__).resolve().parents[2] / "docs" / "differences.md"
SECTION = "Differences NiBabel's own tests meet"
ADAPTER_MODULES = (
    test_nibabel_headers,
    test_nibabel_image_api,
    test_nibabel_images,
    test_nibabel_proxy_api,
)


def documented_differences(text: str) -> list[str]:
    """The ### headings of the section listing the differences NiBabel's tests meet."""
    match = re.search(rf"^## {re.escape(SECTION)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/differences.md has no '## {SECTION}' section"
    return re.findall(r"^### (.+?)\s*$", match.group(1), re.M)


def differences_used() -> set[str]:
    """Keys of every difference some NiBabel API case is marked as meeting."""
    used = set(expectations.XFAILS.values())
    nifti_types = supported_np_types(Nifti1Header)
    for out, inp in itertools.product(
        nifti_types, nib_spm99.FLOAT_TYPES + nib_spm99.IUINT_TYPES
    ):
        key = expectations._no_scaling_difference({"supported_dtype": out, "in_dtype": inp})
        if key is not None:
            used.add(key)
    return used


def test_page_lists_exactly_the_differences_the_xfails_name():
    headings = documented_differences(PAGE.read_text(encoding="utf-8"))
    assert len(headings) == len(set(headings)), "a difference is documented twice"
    assert set(headings) == set(expectations.DIFFERENCES.values())


def test_every_documented_difference_marks_some_case():
    assert differences_used() == set(expectations.DIFFERENCES)


def test_xfail_reasons_quote_the_headings():
    for key, heading in expectations.DIFFERENCES.items():
        assert heading in expectations.xfail_reason(key)


@pytest.mark.parametrize(
    "case", sorted({*expectations.XFAILS, *expectations.SKIPS}), ids=str
)
def test_listed_cases_exist(case):
    # a renamed test in a new NiBabel must not leave a stale entry behind
    cls_name, test_name = case.split("::")
    classes = [getattr(m, cls_name) for m in ADAPTER_MODULES if hasattr(m, cls_name)]
    assert classes, f"no adapter class {cls_name}"
    assert hasattr(classes[0], test_name), f"{cls_name} has no {test_name}"


def test_page_parser_reads_only_its_section():
    text = (
        "# T\n\n## Other\n\n### Not this\n\n"
        f"## {SECTION}\n\nintro\n\n### First\n\ntext\n\n### Second\n\n## After\n\n### Nor this\n"
    )
    assert documented_differences(text) == ["First", "Second"]

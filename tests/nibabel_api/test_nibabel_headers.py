"""NiBabel's header test classes (test_wrapstruct.py via test_analyze.py,
test_nifti1.py, test_mghformat.py) on voxelio's headers."""

from __future__ import annotations

import nibabel.freesurfer.tests.test_mghformat as nib_mgh
import nibabel.tests.test_analyze as nib_analyze
import nibabel.tests.test_nifti1 as nib_nifti1

from voxelio_analyze.header import AnalyzeHeader
from voxelio_mgh.header import MGHHeader
from voxelio_nifti1.header import Nifti1Header, Nifti1PairHeader


class TestAnalyzeHeader(nib_analyze.TestAnalyzeHeader):
    header_class = AnalyzeHeader
    sizeof_hdr = 348


class TestNifti1PairHeader(nib_nifti1.TestNifti1PairHeader):
    header_class = Nifti1PairHeader
    sizeof_hdr = 348


class TestNifti1SingleHeader(nib_nifti1.TestNifti1SingleHeader):
    header_class = Nifti1Header
    sizeof_hdr = 348


class TestMGHHeader(nib_mgh.TestMGHHeader):
    header_class = MGHHeader

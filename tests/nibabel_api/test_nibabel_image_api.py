"""NiBabel's image API validators (nibabel/tests/test_image_api.py) on voxelio's images."""

from __future__ import annotations

import nibabel.tests.test_image_api as nib  # the module, so pytest does not collect its classes

from voxelio_analyze.image import AnalyzeImage
from voxelio_mgh.image import MGHImage
from voxelio_nifti1.image import Nifti1Image, Nifti1Pair


class TestAnalyzeAPI(nib.TestAnalyzeAPI):
    klass = image_maker = AnalyzeImage


class TestNifti1PairAPI(nib.TestNifti1PairAPI):
    klass = image_maker = Nifti1Pair
    can_save = True


class TestNifti1API(nib.TestNifti1API):
    klass = image_maker = Nifti1Image
    can_save = True


class TestMGHAPI(nib.TestMGHAPI):
    klass = image_maker = MGHImage

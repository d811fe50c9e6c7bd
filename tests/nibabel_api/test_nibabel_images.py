"""NiBabel's spatial-image test classes (test_spatialimages.py and the image
classes built on it in test_analyze.py, test_nifti1.py, test_mghformat.py)
on voxelio's images."""

from __future__ import annotations

import nibabel.freesurfer.tests.test_mghformat as nib_mgh
import nibabel.tests.test_analyze as nib_analyze
import nibabel.tests.test_nifti1 as nib_nifti1

from voxelio_analyze.image import AnalyzeImage
from voxelio_mgh.image import MGHImage
from voxelio_nifti1.image import Nifti1Image, Nifti1Pair


class TestAnalyzeImage(nib_analyze.TestAnalyzeImage):
    image_class = AnalyzeImage


class TestNifti1Pair(nib_nifti1.TestNifti1Pair):
    image_class = Nifti1Pair


class TestNifti1Image(nib_nifti1.TestNifti1Image):
    image_class = Nifti1Image


class TestMGHImage(nib_mgh.TestMGHImage):
    image_class = MGHImage

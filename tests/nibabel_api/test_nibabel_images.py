"""NiBabel's spatial-image test classes (test_spatialimages.py and the image
classes built on it in test_analyze.py, test_nifti1.py, test_mghformat.py)
on voxelio's images."""

from __future__ import annotations

import nibabel.freesurfer.tests.test_mghformat as nib_mgh
import nibabel.spatialimages as nib_spatialimages
import nibabel.tests.test_analyze as nib_analyze
import nibabel.tests.test_nifti1 as nib_nifti1
import pytest

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


# NiBabel's test_slicer first compares the exact text of the TypeError that
# img[...] raises; voxelio words it its own way (docs/differences.md,
# "Indexing an image is refused in voxelio's words"), so that test is an
# expected failure above. These run the whole test on subclasses whose
# img[...] raises through NiBabel's own method, so everything else it
# checks of img.slicer still runs on voxelio's classes.
def _raising_as_nibabel(klass: type) -> type:
    return type(klass.__name__, (klass,),
                {"__getitem__": nib_spatialimages.SpatialImage.__getitem__})


@pytest.mark.parametrize("klass", [AnalyzeImage, Nifti1Pair, Nifti1Image, MGHImage],
                         ids=lambda k: k.__name__)
def test_nibabel_slicer_checks_on_voxelio_images(klass):
    case = type("Slicer", (), {"image_class": _raising_as_nibabel(klass)})()
    nib_analyze.TestAnalyzeImage.test_slicer(case)

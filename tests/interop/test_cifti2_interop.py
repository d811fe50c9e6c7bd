"""CIFTI-2 files written by NiBabel's cifti2 module load as NIfTI-2 images in voxelio.

voxelio does not interpret the brain-model axes; it keeps the CIFTI XML
extension byte for byte, so NiBabel still sees the same axes in a file that
voxelio rewrote.
"""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pytest
from nibabel import cifti2

import voxelio as vx
from voxelio_nifti2.image import Nifti2Image


def _brain_models() -> cifti2.BrainModelAxis:
    mask = np.zeros((4, 5, 6), bool)
    mask[1:3, 2, 3:5] = True
    affine = np.diag([2, 2, 2, 1])
    voxels = cifti2.BrainModelAxis.from_mask(mask, name="thalamus_left", affine=affine)
    vertices = cifti2.BrainModelAxis.from_mask(np.array([1, 0, 1, 1, 0], bool), name="CortexLeft")
    return voxels + vertices


KINDS = {
    "dscalar": (lambda n: cifti2.ScalarAxis([f"map{i}" for i in range(n)]), "ConnDenseScalar"),
    "dtseries": (lambda n: cifti2.SeriesAxis(start=0, step=0.72, size=n), "ConnDenseSeries"),
}


@pytest.fixture(params=sorted(KINDS))
def cifti_file(request, tmp_path):
    make_axis, intent = KINDS[request.param]
    models = _brain_models()
    data = np.arange(3 * len(models), dtype=np.float32).reshape(3, len(models)) / 7
    img = cifti2.Cifti2Image(data, (make_axis(3), models))
    img.nifti_header.set_intent(intent)
    path = tmp_path / f"x.{request.param}.nii"
    nib.save(img, path)
    return path, data, intent


def test_cifti2_loads_as_a_nifti2_image(cifti_file):
    path, data, intent = cifti_file
    img = vx.load(path)
    assert type(img) is Nifti2Image and img.format_name == "nifti2"
    assert img.header.get_intent()[0] == intent
    assert img.header.is_cifti()
    ref = nib.Nifti2Image.load(path)
    assert img.shape == ref.shape == (1, 1, 1, 1, *data.shape)
    assert np.array_equal(img.get_fdata().reshape(data.shape), data)
    xml = ref.header.extensions[0].content
    assert img.header.extensions.find("cifti")[0].content == xml
    assert b"CIFTI_STRUCTURE_THALAMUS_LEFT" in xml


@pytest.mark.parametrize("name", ["y.nii", "y.nii.gz"])
def test_cifti2_written_back_byte_exact(cifti_file, tmp_path, name):
    path, data, _ = cifti_file
    vx.save(vx.load(path), tmp_path / name)
    written = (tmp_path / name).read_bytes()
    if name.endswith(".gz"):
        assert gzip.decompress(written) == path.read_bytes()
        return  # NiBabel's Cifti2Image reads uncompressed files only
    assert written == path.read_bytes()
    again = nib.load(tmp_path / name)
    original = nib.load(path)
    assert isinstance(again, cifti2.Cifti2Image)
    for axis in (0, 1):
        assert again.header.get_axis(axis) == original.header.get_axis(axis)
    assert np.array_equal(again.get_fdata(), data)


def test_nibabel_reads_cifti_made_in_voxelio(tmp_path, cifti_file):
    path, data, intent = cifti_file
    xml = vx.load(path).header.extensions.find("cifti")[0].content
    img = Nifti2Image(np.zeros((1, 1, 1, 1, *data.shape), np.float32) + 1.5, None)
    img.header.set_intent(intent)
    img.header.extensions.append(vx.Nifti1Extension("cifti", xml))
    vx.save(img, tmp_path / "made.nii")
    ref = nib.load(tmp_path / "made.nii")
    assert isinstance(ref, cifti2.Cifti2Image)
    assert ref.header.get_axis(1) == nib.load(path).header.get_axis(1)
    assert np.all(ref.get_fdata() == 1.5)

"""nilearn works on img.to_nibabel(): the same results as on nibabel.load of the same file.

A real 4-D NIfTI (NiBabel's example4d.nii.gz), a T1 (NiBabel's anatomical.nii) and
files voxelio writes (a gzip'd, scaled copy of the T1, an MGZ of it).
"""

from __future__ import annotations

import io
import os
import warnings

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import nibabel as nib
import nibabel.testing as nib_testing
import numpy as np
import pytest
from nilearn import image, maskers, masking, plotting

import voxelio as vx

FOUR_D = os.path.join(nib_testing.data_path, "example4d.nii.gz")
T1 = os.path.join(nib_testing.data_path, "anatomical.nii")


@pytest.fixture(autouse=True)
def quiet():
    plt.switch_backend("Agg")  # draw off screen, whatever the environment says
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The T1 as voxelio writes it: scaled int16 .nii.gz, and .mgz."""
    folder = tmp_path_factory.mktemp("nilearn")
    t1 = vx.load(T1)
    scaled = vx.Nifti1Image(t1.get_fdata() * 1.7 + 3, t1.affine)
    paths = {"nii.gz": str(folder / "t1.nii.gz"), "mgz": str(folder / "t1.mgz")}
    vx.save(scaled, paths["nii.gz"], dtype=np.int16)
    vx.save(vx.MGHImage(t1.get_fdata().astype(np.float32), t1.affine), paths["mgz"])
    return paths


def both(path):
    """(nilearn input from voxelio, nilearn input from NiBabel) for one file."""
    ours = vx.load(path).to_nibabel()
    assert vx.is_proxy(ours.dataobj)
    return ours, nib.load(path)


def same_image(a, b):
    assert type(a) is type(b)
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.affine, b.affine)
    np.testing.assert_array_equal(a.get_fdata(), b.get_fdata())


def test_mean_img():
    ours, theirs = both(FOUR_D)
    same_image(image.mean_img(ours, copy_header=True), image.mean_img(theirs, copy_header=True))


@pytest.mark.parametrize("which", ["T1", "nii.gz", "mgz"])
def test_resample_img(which, written):
    path = T1 if which == "T1" else written[which]
    ours, theirs = both(path)
    target = np.diag([3.0, 3.5, 4.0])
    kwargs = {"target_affine": target, "interpolation": "linear", "copy_header": True,
              "force_resample": True}
    same_image(image.resample_img(ours, **kwargs), image.resample_img(theirs, **kwargs))


def test_resample_to_img():
    ours4d, theirs4d = both(FOUR_D)
    ours_t1, theirs_t1 = both(T1)
    kwargs = {"interpolation": "nearest", "copy_header": True, "force_resample": True}
    same_image(image.resample_to_img(ours_t1, ours4d, **kwargs),
               image.resample_to_img(theirs_t1, theirs4d, **kwargs))


def test_compute_epi_mask():
    ours, theirs = both(FOUR_D)
    same_image(masking.compute_epi_mask(ours), masking.compute_epi_mask(theirs))


@pytest.mark.parametrize("which", ["T1", "nii.gz"])
def test_compute_brain_mask(which, written):
    path = T1 if which == "T1" else written[which]
    ours, theirs = both(path)
    same_image(masking.compute_brain_mask(ours), masking.compute_brain_mask(theirs))


def test_nifti_masker_fit_transform():
    ours, theirs = both(FOUR_D)
    got = maskers.NiftiMasker(standardize=False).fit_transform(ours)
    expected = maskers.NiftiMasker(standardize=False).fit_transform(theirs)
    assert got.shape[0] == 2
    np.testing.assert_array_equal(got, expected)


def _render(img):
    display = plotting.plot_anat(img, cut_coords=(0, 0, 0), display_mode="ortho")
    buffer = io.BytesIO()
    display.frame_axes.figure.savefig(buffer, format="png")
    display.close()
    plt.close("all")
    buffer.seek(0)
    return mpimg.imread(buffer)


@pytest.mark.parametrize("which", ["T1", "mgz"])
def test_plot_anat_draws_the_same_pixels(which, written):
    path = T1 if which == "T1" else written[which]
    ours, theirs = both(path)
    got, expected = _render(ours), _render(theirs)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    assert got.std() > 0  # something was drawn


@pytest.mark.parametrize("path", [FOUR_D, T1])
def test_load_img(path):
    ours, theirs = both(path)
    loaded = image.load_img(ours)
    same_image(loaded, image.load_img(theirs))
    assert loaded.header.binaryblock == theirs.header.binaryblock

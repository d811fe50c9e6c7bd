"""A NiBabel image given to a voxelio class's from_image goes through the NiBabel bridge:
header bytes, extensions, MGH footer and scaling carry over, the data stay lazy, and the
result equals what NiBabel's own from_image makes."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import nibabel as nib
import nibabel.testing as nib_testing
import numpy as np
import pytest

import voxelio as vx
from voxelio.proxy import ArrayProxy
from voxelio_nifti1.extensions import Nifti1Extension

SHIPPED = ["example4d.nii.gz", "anatomical.nii", "functional.nii", "standard.nii.gz",
           "test.mgz", "reoriented_anat_moved.nii"]


def nib_load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nib.load(path)


def _counterparts(nib_img):
    """(voxelio class, NiBabel class) of the format of ``nib_img``."""
    if isinstance(nib_img, nib.MGHImage):
        return vx.MGHImage, nib.MGHImage
    return vx.Nifti1Image, nib.Nifti1Image


def _records(extensions):
    return [(int(e.get_code()), bytes(e.get_content())) for e in extensions]


@pytest.mark.parametrize("name", SHIPPED)
def test_from_image_of_a_nibabel_image_equals_nibabels_from_image(name):
    theirs = nib_load(os.path.join(nib_testing.data_path, name))
    vx_class, nib_class = _counterparts(theirs)
    ours = vx_class.from_image(theirs)
    reference = nib_class.from_image(theirs)
    assert type(ours) is vx_class
    assert ours.header.binaryblock == reference.header.binaryblock
    if hasattr(reference.header, "extensions"):
        assert _records(ours.header.extensions) == _records(reference.header.extensions)
    assert np.allclose(ours.affine, reference.affine, atol=1e-6)
    # read by voxelio's own proxy, lazily: nothing read yet, NiBabel's proxy not kept
    assert isinstance(ours.dataobj, ArrayProxy)
    assert not ours.in_memory
    assert ours.get_filename() is None  # a new image, as NiBabel's from_image makes
    assert np.array_equal(ours.get_fdata(), reference.get_fdata())
    assert ours.conversion_report == ()


def _rich_nifti_file(tmp_path):
    """A NiBabel-written NIfTI file with extensions, slice fields and int16 scaling."""
    data = np.random.default_rng(5).normal(50, 10, (6, 5, 4, 3))
    img = nib.Nifti1Image(data.astype(np.float32), np.diag([2.0, 2.5, 3.0, 1.0]))
    hdr = img.header
    hdr.set_dim_info(freq=1, phase=0, slice=2)
    hdr.set_xyzt_units("mm", "sec")
    hdr["slice_code"], hdr["slice_start"], hdr["slice_end"] = 3, 0, 3
    hdr["descrip"] = b"from_image through the bridge"
    hdr.extensions.append(nib.nifti1.Nifti1Extension("comment", b"kept"))
    hdr.set_data_dtype(np.int16)  # NiBabel chooses a slope and intercept on save
    path = str(tmp_path / "rich.nii.gz")
    nib.save(img, path)
    return path


def test_extensions_slice_fields_and_scaling_carry_over(tmp_path):
    theirs = nib_load(_rich_nifti_file(tmp_path))
    assert theirs.dataobj.slope != 1  # a scaled file
    ours = vx.Nifti1Image.from_image(theirs)
    reference = nib.Nifti1Image.from_image(theirs)
    assert ours.header.binaryblock == reference.header.binaryblock
    assert [(e.get_code(), e.get_content()) for e in ours.header.extensions] == [(6, b"kept")]
    assert isinstance(ours.header.extensions[0], Nifti1Extension)
    assert ours.header.get_dim_info() == (1, 0, 2)
    assert (ours.dataobj.slope, ours.dataobj.inter) == (theirs.dataobj.slope,
                                                       theirs.dataobj.inter)
    assert np.array_equal(ours.dataobj.get_unscaled(), theirs.dataobj.get_unscaled())
    assert np.array_equal(ours.get_fdata(), theirs.get_fdata())
    # saved by voxelio, the file reads back in NiBabel as the NiBabel image did
    out = str(tmp_path / "resaved.nii")
    vx.save(ours, out)
    again = nib_load(out)
    assert _records(again.header.extensions) == _records(theirs.header.extensions)
    assert np.allclose(again.get_fdata(), theirs.get_fdata())


def test_the_dtype_argument_still_applies(tmp_path):
    theirs = nib_load(_rich_nifti_file(tmp_path))
    ours = vx.Nifti1Image.from_image(theirs, dtype=np.float32)
    assert ours.get_data_dtype() == np.float32
    assert len(ours.header.extensions) == 1


def test_another_voxelio_class_converts_from_the_bridged_image(tmp_path):
    path = os.path.join(nib_testing.data_path, "example4d.nii.gz")
    theirs = nib_load(path)
    with warnings.catch_warnings(record=True) as from_nib:
        warnings.simplefilter("always")
        ours = vx.MGHImage.from_image(theirs)
    with warnings.catch_warnings(record=True) as from_vx:
        warnings.simplefilter("always")
        same = vx.MGHImage.from_image(vx.load(path))
    # exactly as converting voxelio's own image of the file: same header, same losses
    assert ours.header == same.header
    assert ours.conversion_report == same.conversion_report
    assert [str(w.message) for w in from_nib] == [str(w.message) for w in from_vx]
    assert isinstance(ours.dataobj, ArrayProxy)
    assert np.array_equal(ours.get_fdata(), theirs.get_fdata())


def test_mgh_footer_carries_over(tmp_path):
    data = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    theirs = nib.MGHImage(data, np.diag([1.5, 2, 2.5, 1]))
    theirs.header["tr"], theirs.header["te"], theirs.header["flip_angle"] = 2300, 2.9, 0.15
    ours = vx.MGHImage.from_image(theirs)
    reference = nib.MGHImage.from_image(theirs)
    assert ours.header.binaryblock == reference.header.binaryblock
    assert float(ours.header["tr"]) == 2300
    assert ours.dataobj is theirs.dataobj  # an array image shares its array


def test_a_nibabel_class_without_counterpart_still_converts():
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    theirs = nib.spatialimages.SpatialImage(data, np.diag([2.0, 3.0, 4.0, 1.0]))
    ours = vx.Nifti1Image.from_image(theirs)
    assert np.array_equal(ours.get_fdata(), data)
    assert np.array_equal(ours.affine, theirs.affine)
    assert ours.header.get_zooms() == (2.0, 3.0, 4.0)


def test_from_image_of_voxelio_images_never_imports_nibabel():
    code = (
        "import sys, numpy as np, voxelio as vx\n"
        "img = vx.Nifti1Image(np.zeros((2, 3, 4), np.int16), np.eye(4))\n"
        "vx.MGHImage.from_image(vx.Nifti1Pair.from_image(img))\n"
        "print('nibabel' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_vx_save_of_a_nibabel_image_keeps_what_the_bridge_keeps(tmp_path):
    theirs = nib_load(os.path.join(nib_testing.data_path, "example4d.nii.gz"))
    out = str(tmp_path / "saved.nii")
    vx.save(theirs, out)  # converts through from_image
    assert _records(vx.load(out).header.extensions) == _records(theirs.header.extensions)
    assert len(theirs.header.extensions) == 2
    with pytest.warns(vx.ConversionWarning, match=r"2 extension\(s\)"):
        vx.save(theirs, str(tmp_path / "saved.mgz"))  # MGH keeps none, and says so

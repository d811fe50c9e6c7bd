"""Faithful conversions: same-format from_image keeps everything; across formats what
both can express is kept, and what cannot be kept is reported, never dropped silently."""

from __future__ import annotations

import os
import warnings

import nibabel as nib
import nibabel.testing as nib_testing
import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import ConversionWarning
from voxelio_mgh.tags import MGHTag
from voxelio_nifti1.extensions import Nifti1Extension
from voxelio_nifti1.image import Nifti1Image, Nifti1Pair

AFFINE = np.array([[-2.0, 0.0, 0.3, 90], [0.0, 2.0, 0.0, -126], [0.1, 0.0, 2.5, -72],
                   [0, 0, 0, 1]])
KEPT_FIELDS = ("qform_code", "sform_code", "quatern_b", "quatern_c", "quatern_d", "qoffset_x",
               "srow_x", "srow_y", "srow_z", "dim_info", "slice_code", "slice_start",
               "slice_end", "slice_duration", "xyzt_units", "intent_code", "intent_p1",
               "intent_name", "descrip", "aux_file", "toffset", "pixdim", "cal_max")


def rich(klass=Nifti1Image, shape=(6, 5, 4, 3)):
    data = np.random.default_rng(1).normal(50, 10, size=shape).astype(np.float32)
    img = klass(data, AFFINE)
    hdr = img.header
    img.set_qform(AFFINE, code="scanner")
    img.set_sform(AFFINE, code="mni")
    hdr.set_dim_info(freq=0, phase=1, slice=2)
    hdr.set_xyzt_units("mm", "sec")
    hdr.set_zooms((*hdr.get_zooms()[:3], 1.35))
    hdr["slice_code"], hdr["slice_start"], hdr["slice_end"] = 4, 0, 3
    hdr["slice_duration"] = 0.3
    hdr.set_intent("t test", (12.0,), name="tmap")
    hdr["descrip"], hdr["aux_file"] = b"made by a test", b"aux"
    hdr["toffset"], hdr["cal_max"] = 0.5, 99.0
    hdr.extensions.append(Nifti1Extension("comment", b"keep me"))
    return img


def records(warned):
    return [w for w in warned if issubclass(w.category, ConversionWarning)]


@pytest.mark.parametrize("source,target", [(Nifti1Image, Nifti1Pair), (Nifti1Pair, Nifti1Image),
                                           (Nifti1Image, Nifti1Image)])
def test_same_format_from_image_keeps_every_field(source, target):
    img = rich(source)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        new = target.from_image(img)
    assert not records(warned)
    assert new.conversion_report == ()
    for field in KEPT_FIELDS:
        assert np.array_equal(new.header[field], img.header[field]), field
    assert new.header.extensions == img.header.extensions
    assert new.header["magic"] == target.header_class.magic
    assert np.array_equal(new.affine, img.affine)


def test_same_format_from_image_of_a_loaded_file(tmp_path):
    path = str(tmp_path / "rich.nii.gz")
    vx.save(rich(), path)
    loaded = vx.load(path)
    pair = Nifti1Pair.from_image(loaded)
    out = str(tmp_path / "pair.img")
    vx.save(pair, out)
    theirs = nib.load(out)
    for field in KEPT_FIELDS:
        assert np.array_equal(theirs.header[field], nib.load(path).header[field]), field
    assert len(theirs.header.extensions) == 1


def test_mgh_to_nifti_is_scanner_space_with_tr_in_seconds(tmp_path):
    data = np.arange(4 * 5 * 6 * 3, dtype=np.float32).reshape(4, 5, 6, 3)
    mgh = vx.MGHImage(data, AFFINE)
    mgh.header.set_scan_parameters(tr=1350)
    path = str(tmp_path / "run.mgz")
    vx.save(mgh, path)
    out = str(tmp_path / "run.nii.gz")
    vx.save(vx.load(path), out)
    theirs = nib.load(out)  # read back by NiBabel
    assert theirs.header.get_qform(coded=True)[1] == 1
    assert theirs.header.get_sform(coded=True)[1] == 1
    assert theirs.header.get_xyzt_units() == ("mm", "sec")
    assert theirs.header.get_zooms()[3] == pytest.approx(1.35)
    assert np.allclose(theirs.affine, vx.load(path).affine, atol=1e-5)
    # the qform holds the nearest shear-free transform of the same affine
    assert np.allclose(theirs.header.get_qform()[:3, 3], theirs.affine[:3, 3], atol=1e-4)
    assert np.array_equal(theirs.get_fdata(), data)


@pytest.mark.parametrize("name", ["example4d.nii.gz", "rich"])
def test_nifti_to_mgh_to_nifti_gives_back_affine_tr_and_codes(tmp_path, name):
    if name == "rich":
        source = rich()
        source.set_sform(AFFINE, code="scanner")
        source.header.set_intent("none")
        source.header.extensions.clear()
        path = str(tmp_path / "rich.nii.gz")
        vx.save(source, path)
    else:
        path = os.path.join(nib_testing.data_path, name)
    original = vx.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConversionWarning)
        vx.save(original, str(tmp_path / "via.mgz"))
    vx.save(vx.load(str(tmp_path / "via.mgz")), str(tmp_path / "back.nii.gz"))
    back = vx.load(str(tmp_path / "back.nii.gz"))
    assert np.allclose(back.affine, original.affine, atol=1e-4)  # MGH stores float32
    seconds = {"sec": 1.0, "msec": 1e-3, "usec": 1e-6}
    tr = original.header.get_zooms()[3] * seconds[original.header.get_xyzt_units()[1]]
    assert back.header.get_xyzt_units()[1] == "sec"
    assert back.header.get_zooms()[3] == pytest.approx(tr, rel=1e-6)
    assert int(back.header["qform_code"]) == int(original.header["qform_code"]) == 1
    assert int(back.header["sform_code"]) == int(original.header["sform_code"]) == 1
    assert np.array_equal(back.get_fdata(), original.get_fdata())


def test_nifti_to_mgh_reports_what_it_drops():
    img = rich()
    with pytest.warns(ConversionWarning) as warned:
        new = vx.MGHImage.from_image(img)
    report = new.conversion_report
    text = " | ".join(report)
    for expected in ("1 extension(s) (codes 6)", "dim_info", "slice timing", "intent",
                     "descrip", "aux_file", "toffset", "'mni' world space"):
        assert expected in text, expected
    assert str(warned[0].message).count(";") == len(report) - 1
    # TR is kept: 1.35 s is 1350 ms in MGH
    assert float(new.header["tr"]) == pytest.approx(1350)


def test_mgh_to_nifti_reports_scan_parameters_and_tags():
    mgh = vx.MGHImage(np.zeros((3, 4, 5), np.float32), AFFINE)
    mgh.header.set_scan_parameters(tr=2000, te=2.9, ti=900, flip_angle=0.16, fov=256)
    mgh.header.tags.append(MGHTag(3, b"mri_convert a b"))
    with pytest.warns(ConversionWarning) as warned:
        new = Nifti1Image.from_image(mgh)
    text = " | ".join(new.conversion_report)
    for expected in ("tr = 2000", "te = 2.9", "ti = 900", "flip_angle = 0.16", "fov = 256",
                     "1 FreeSurfer tag(s)"):
        assert expected in text, expected
    assert "MGHImage -> Nifti1Image" in str(warned[0].message)


def test_a_lossless_conversion_warns_nothing():
    img = Nifti1Image(np.zeros((3, 4, 5), np.float32), AFFINE)
    img.set_sform(AFFINE, code="scanner")
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        mgh = vx.MGHImage.from_image(img)
        back = Nifti1Image.from_image(mgh)
    assert not records(warned)
    assert mgh.conversion_report == back.conversion_report == ()

"""img.to_nibabel() and voxelio.from_nibabel(): lossless, lazy, with clear errors."""

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
from voxelio.integrations.nibabel import NibabelBridgeError
from voxelio.proxy import ArrayProxy
from voxelio_mgh.tags import MGHTag
from voxelio_nifti1.extensions import Nifti1Extension
from voxelio_nifti1.image import Nifti1Image, Nifti1Pair

SHIPPED = ["example4d.nii.gz", "anatomical.nii", "functional.nii", "standard.nii.gz",
           "test.mgz", "reoriented_anat_moved.nii"]


def shipped(name):
    return os.path.join(nib_testing.data_path, name)


def nib_load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nib.load(path)


def rich_nifti(pair=False):
    """A NIfTI image using every field the round trips must keep."""
    rng = np.random.default_rng(3)
    data = rng.normal(100, 20, size=(6, 5, 4, 3)).astype(np.float32)
    affine = np.array([[-2.0, 0.2, 0, 10], [0.1, 2.5, 0, -20], [0, 0, 3, 7], [0, 0, 0, 1]])
    img = (Nifti1Pair if pair else Nifti1Image)(data, affine)
    hdr = img.header
    img.set_qform(affine, code="scanner")
    img.set_sform(affine @ np.diag([1, 1, 1, 1.0]), code="mni")
    hdr.set_dim_info(freq=1, phase=0, slice=2)
    hdr.set_xyzt_units("mm", "sec")
    hdr.set_zooms((*hdr.get_zooms()[:3], 1.35))
    hdr["slice_code"] = 3
    hdr["slice_start"], hdr["slice_end"] = 0, 3
    hdr["slice_duration"] = 0.3
    hdr["descrip"] = b"voxelio bridge test"
    hdr["intent_name"] = b"sample"
    hdr.extensions.append(Nifti1Extension("comment", b"a comment"))
    hdr.extensions.append(Nifti1Extension(4, b"<xml>afni</xml>"))
    return img


FIELDS = ("qform_code", "sform_code", "dim_info", "slice_code", "slice_start", "slice_end",
          "slice_duration", "xyzt_units", "descrip", "intent_name", "pixdim")


# -- voxelio -> NiBabel ------------------------------------------------------------------------
@pytest.mark.parametrize("name", SHIPPED)
def test_to_nibabel_of_shipped_files_equals_nibabel_load(name):
    ours = vx.load(shipped(name))
    theirs = nib_load(shipped(name))
    converted = ours.to_nibabel()
    assert type(converted) is type(theirs)
    assert converted.header.binaryblock == ours.header.binaryblock
    assert converted.header.binaryblock == theirs.header.binaryblock
    assert np.allclose(converted.affine, theirs.affine, atol=1e-6)
    # no read, no copy: NiBabel holds voxelio's own proxy
    assert converted.dataobj is ours.dataobj
    assert nib.is_proxy(converted.dataobj)
    assert not ours.in_memory
    assert np.array_equal(converted.get_fdata(), theirs.get_fdata())
    assert np.array_equal(converted.get_fdata(dtype=np.float32),
                          theirs.get_fdata().astype(np.float32))
    if hasattr(theirs.header, "extensions"):
        assert converted.header.extensions == theirs.header.extensions


def test_to_nibabel_keeps_extensions_codes_and_slice_fields(tmp_path):
    path = str(tmp_path / "rich.nii.gz")
    vx.save(rich_nifti(), path)
    ours = vx.load(path)
    converted = ours.to_nibabel()
    theirs = nib_load(path)
    assert converted.header.binaryblock == theirs.header.binaryblock
    records = [(e.get_code(), e.get_content()) for e in converted.header.extensions]
    assert records == [(6, b"a comment"), (4, b"<xml>afni</xml>")]
    assert converted.header.extensions == theirs.header.extensions
    for field in FIELDS:
        assert np.array_equal(converted.header[field], theirs.header[field]), field
    assert converted.header.get_qform(coded=True)[1] == 1
    assert converted.header.get_sform(coded=True)[1] == 4
    # NiBabel saves it; the file reads back the same in both libraries
    out = str(tmp_path / "resaved.nii")
    nib.save(converted, out)
    again = vx.load(out)
    assert np.array_equal(again.get_fdata(), ours.get_fdata())
    assert again.header.extensions == ours.header.extensions


def test_to_nibabel_of_a_pair_and_of_analyze(tmp_path):
    pair = str(tmp_path / "pair.img")
    vx.save(rich_nifti(pair=True), pair)
    converted = vx.load(pair).to_nibabel()
    assert type(converted) is nib.Nifti1Pair
    assert converted.header.binaryblock == nib_load(pair).header.binaryblock
    assert len(converted.header.extensions) == 2
    analyze = str(tmp_path / "old.img")
    vx.save(vx.load(shipped("anatomical.nii")), analyze, format="analyze")
    ours = vx.load(analyze)
    converted = ours.to_nibabel()
    # voxelio's Analyze honours SPM's scale factor and origin: NiBabel's SPM2 Analyze
    assert type(converted) is type(nib_load(analyze)) is nib.Spm2AnalyzeImage
    assert converted.header.binaryblock == nib_load(analyze).header.binaryblock
    assert np.array_equal(converted.affine, nib_load(analyze).affine)
    assert np.array_equal(converted.get_fdata(), nib_load(analyze).get_fdata())
    assert type(vx.from_nibabel(nib_load(analyze))) is type(ours)


def test_scaled_analyze_through_nibabel_and_back(tmp_path):
    data = np.random.default_rng(0).normal(size=(5, 6, 7))
    path = str(tmp_path / "scaled.img")
    vx.save(vx.AnalyzeImage(data, np.diag([-2, 2, 2, 1.0])), path, dtype=np.int16)
    ours = vx.load(path)
    assert ours.dataobj.slope != 1
    converted = ours.to_nibabel()
    assert np.array_equal(converted.get_fdata(), nib_load(path).get_fdata())
    resaved = str(tmp_path / "resaved.img")
    nib.save(converted, resaved)
    assert np.array_equal(vx.load(resaved).get_fdata(), ours.get_fdata())


def test_to_nibabel_of_an_array_image_shares_the_array():
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    img = Nifti1Image(data, np.eye(4))
    converted = img.to_nibabel()
    assert converted.dataobj is data
    assert converted.get_data_dtype() == np.int16


def test_mgh_footer_and_tags_survive_the_round_trip(tmp_path):
    data = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    img = vx.MGHImage(data, np.diag([1.5, 2, 2.5, 1]))
    img.header.set_scan_parameters(tr=2300, flip_angle=0.15, te=2.9, ti=900, fov=256)
    img.header.tags.append(MGHTag(3, b"mri_convert in.nii out.mgz"))
    path = str(tmp_path / "tagged.mgz")
    vx.save(img, path)
    ours = vx.load(path)
    converted = ours.to_nibabel()
    theirs = nib_load(path)
    assert converted.header.binaryblock == theirs.header.binaryblock
    for name in ("tr", "flip_angle", "te", "ti", "fov"):
        assert converted.header[name] == theirs.header[name]
    assert float(converted.header["tr"]) == 2300
    back = vx.from_nibabel(converted)
    assert back.header == ours.header  # tags came back through extra
    assert list(back.header.tags) == list(ours.header.tags)
    assert "voxelio_mgh" not in back.extra


# -- NiBabel -> voxelio ------------------------------------------------------------------------
@pytest.mark.parametrize("name", SHIPPED)
def test_from_nibabel_is_lazy_and_equal(name):
    theirs = nib_load(shipped(name))
    ours = vx.from_nibabel(theirs)
    reference = vx.load(shipped(name))
    assert type(ours) is type(reference)
    assert isinstance(ours.dataobj, ArrayProxy)
    assert not ours.in_memory
    assert ours.header.binaryblock == theirs.header.binaryblock
    assert np.array_equal(ours.affine, reference.affine)
    index = (slice(1, None, 3), slice(None, None, -2), 0)
    assert np.array_equal(ours.dataobj[index], np.asarray(theirs.dataobj)[index])
    assert np.array_equal(ours.get_fdata(), theirs.get_fdata())
    assert ours.get_filename() == theirs.get_filename()


@pytest.mark.parametrize("pair", [False, True])
def test_nibabel_voxelio_nibabel_round_trip_keeps_every_byte(tmp_path, pair):
    path = str(tmp_path / ("rich.img" if pair else "rich.nii"))
    vx.save(rich_nifti(pair), path)
    theirs = nib_load(path)
    there_and_back = vx.from_nibabel(theirs).to_nibabel()
    assert type(there_and_back) is type(theirs)
    assert there_and_back.header.binaryblock == theirs.header.binaryblock
    assert there_and_back.header.extensions == theirs.header.extensions
    for field in FIELDS:
        assert np.array_equal(there_and_back.header[field], theirs.header[field]), field
    assert there_and_back.header.get_dim_info() == (1, 0, 2)
    assert there_and_back.header.get_xyzt_units() == ("mm", "sec")
    assert np.array_equal(there_and_back.affine, theirs.affine)


def test_from_nibabel_of_an_in_memory_image_and_a_format_choice():
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    theirs = nib.Nifti1Image(data, np.diag([2, 2, 2, 1.0]))
    ours = vx.from_nibabel(theirs)
    assert isinstance(ours, Nifti1Image)
    assert ours.dataobj is data
    as_pair = vx.from_nibabel(theirs, format="nifti1-pair")
    assert type(as_pair) is Nifti1Pair


# -- declarations and errors ------------------------------------------------------------------
def test_every_first_party_format_declares_its_counterpart():
    counterparts = {info.name: vx.api.get_registry().entries[info.name].spec.nibabel_class
                    for info in vx.formats() if info.name in
                    ("analyze", "nifti1", "nifti1-pair", "mgh")}
    assert counterparts == {
        "analyze": "nibabel.spm2analyze:Spm2AnalyzeImage",
        "nifti1": "nibabel.nifti1:Nifti1Image",
        "nifti1-pair": "nibabel.nifti1:Nifti1Pair",
        "mgh": "nibabel.freesurfer.mghformat:MGHImage",
    }


def test_a_format_without_counterpart_is_named_in_the_error(tmp_path):
    from voxelio_toy.image import ToyImage

    img = ToyImage(np.zeros((2, 2, 2), np.int16), np.eye(4))
    with pytest.raises(NibabelBridgeError, match="'toy'.*no NiBabel counterpart"):
        img.to_nibabel()


def test_a_nibabel_class_without_voxelio_format_is_refused():
    # MINC has no voxelio plugin here (NIfTI-2, once the example, now has voxelio-nifti2)
    other = nib.Minc1Image(np.zeros((2, 2, 2), np.float32), np.eye(4))
    with pytest.raises(NibabelBridgeError, match="Minc1Image"):
        vx.from_nibabel(other)


def test_a_runtime_format_declares_its_own_counterpart():
    class LabNifti(Nifti1Image):
        """An in-house NIfTI flavour."""

        format_name = "labnifti"
        valid_exts = (".lab",)
        files_types = (("image", ".lab"),)
        format_nibabel_class = "nibabel.nifti1:Nifti1Image"

    vx.register_format(LabNifti)
    try:
        img = LabNifti(np.ones((2, 3, 4), np.float32), np.eye(4))
        converted = img.to_nibabel()
        assert type(converted) is nib.Nifti1Image
        back = vx.from_nibabel(converted, format="labnifti")
        assert type(back) is LabNifti
    finally:
        vx.unregister_format("labnifti")


def test_without_nibabel_the_error_names_the_extra(tmp_path):
    path = str(tmp_path / "small.nii")
    vx.save(Nifti1Image(np.zeros((2, 2, 2), np.int16), np.eye(4)), path)
    code = (
        "import sys; sys.modules['nibabel'] = None\n"
        "import voxelio as vx\n"
        f"img = vx.load({path!r})\n"
        "try:\n    img.to_nibabel()\n"
        "except ImportError as err:\n    print(type(err).__name__, err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.startswith("NibabelMissingError")
    assert "voxelio[nibabel]" in out


def test_loading_never_imports_nibabel(tmp_path):
    path = str(tmp_path / "small.nii.gz")
    vx.save(Nifti1Image(np.zeros((2, 2, 2), np.int16), np.eye(4)), path)
    code = (
        "import sys, voxelio as vx\n"
        f"img = vx.load({path!r}); img.get_fdata(); vx.as_closest_canonical(img)\n"
        "print('nibabel' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"

"""Interoperability with NiBabel (a test-only oracle).

Files voxelio writes must read identically with NiBabel, NiBabel's Analyze
output must read identically with voxelio, and NiBabel's shipped
``analyze.hdr`` (a header without its image file) must behave as the README
describes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest
from analyze_samples import DTYPE_IDS, DTYPES, ORDERS, sample_affine, sample_array
from nibabel.testing import data_path

import voxelio as vx
from voxelio.errors import ImageFileError
from voxelio_analyze.header import AnalyzeHeader
from voxelio_analyze.image import AnalyzeImage

NIB_ANALYZE_HDR = os.path.join(data_path, "analyze.hdr")


def _vx_image(dtype, order):
    hdr = AnalyzeHeader(endianness=order)
    hdr.set_data_dtype(dtype)
    return AnalyzeImage(sample_array(dtype), sample_affine(), hdr)


def _nib_image(klass, dtype, order, affine=None):
    hdr = klass.header_class(endianness=order)
    hdr.set_data_dtype(dtype)
    return klass(sample_array(dtype), affine, hdr)


# -- voxelio writes, NiBabel reads ---------------------------------------------------------
@pytest.mark.parametrize("compression", ["", ".gz"])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_nibabel_reads_voxelio_files_identically(tmp_path, dtype, order, compression):
    path = tmp_path / f"x.hdr{compression}"
    _vx_image(dtype, order).to_filename(path)
    ours = AnalyzeImage.from_filename(path)
    for theirs in (nib.load(path), nib.AnalyzeImage.from_filename(path)):
        got = np.asarray(theirs.dataobj)
        assert got.dtype == ours.get_data_dtype()
        assert np.array_equal(got, sample_array(dtype))
        assert theirs.header.endianness == order
        assert theirs.header.get_zooms() == ours.header.get_zooms()
    assert np.array_equal(nib.load(path).affine, ours.affine)
    assert np.array_equal(nib.load(path).affine, sample_affine())


def test_nibabel_reads_the_spm_scale_factor_voxelio_writes(tmp_path):
    data = np.linspace(-3.0, 7.0, 120).reshape((4, 5, 6))
    AnalyzeImage(data, sample_affine()).to_filename(tmp_path / "x.hdr", dtype=np.int16)
    ours = AnalyzeImage.from_filename(tmp_path / "x.hdr")
    theirs = nib.load(tmp_path / "x.hdr")
    assert np.array_equal(theirs.get_fdata(), ours.get_fdata())
    assert np.allclose(ours.get_fdata(), data, atol=ours.dataobj.slope)


# -- NiBabel writes, voxelio reads --------------------------------------------------------------
@pytest.mark.parametrize("compression", ["", ".gz"])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_voxelio_reads_nibabel_analyze_identically(tmp_path, dtype, order, compression):
    path = tmp_path / f"x.img{compression}"
    _nib_image(nib.AnalyzeImage, dtype, order, sample_affine()).to_filename(path)
    theirs = nib.load(path)
    ours = vx.load(path)
    assert isinstance(ours, AnalyzeImage)
    assert ours.header.endianness == order
    assert ours.get_data_dtype() == theirs.get_data_dtype()
    assert np.array_equal(np.asarray(ours.dataobj), np.asarray(theirs.dataobj))
    assert np.array_equal(ours.affine, theirs.affine)
    assert ours.header.binaryblock == nib.AnalyzeImage.from_filename(path).header.binaryblock


@pytest.mark.parametrize("klass", ["Spm99AnalyzeHeader", "Spm2AnalyzeHeader"])
@pytest.mark.parametrize("order", ORDERS)
def test_voxelio_reads_nibabel_spm_scaling_and_origin(tmp_path, klass, order):
    # NiBabel's SPM image classes need scipy to write their .mat file, so the
    # pair is made from NiBabel's SPM header plus the stored array.
    hdr = getattr(nib, "spm2analyze" if "2" in klass else "spm99analyze").__dict__[klass](
        endianness=order
    )
    hdr.set_data_dtype(np.int16)
    hdr.set_data_shape((4, 5, 6))
    hdr.set_zooms((2.0, 3.0, 1.5))
    hdr.set_slope_inter(0.25)
    hdr.set_origin_from_affine(sample_affine())
    stored = np.arange(120, dtype=order + "i2").reshape((4, 5, 6))
    (tmp_path / "x.hdr").write_bytes(hdr.binaryblock)
    (tmp_path / "x.img").write_bytes(stored.tobytes(order="F"))
    theirs = nib.load(tmp_path / "x.hdr")
    ours = vx.load(tmp_path / "x.hdr")
    assert ours.dataobj.slope == theirs.dataobj.slope == 0.25
    assert np.array_equal(ours.get_fdata(), theirs.get_fdata())
    assert np.array_equal(ours.get_fdata(), stored * 0.25)
    assert np.array_equal(ours.affine, theirs.affine)


@pytest.mark.parametrize("order", ORDERS)
def test_voxelio_matches_nibabel_on_spm2_calibration_scaling(tmp_path, order):
    hdr = AnalyzeHeader(endianness=order)
    hdr.set_data_dtype(np.int16)
    hdr.set_data_shape((3, 4, 5))
    hdr["cal_max"], hdr["cal_min"], hdr["glmax"], hdr["glmin"] = 0.8, 0.2, 110, 10
    (tmp_path / "x.hdr").write_bytes(hdr.binaryblock)
    (tmp_path / "x.img").write_bytes(np.arange(60, dtype=order + "i2").tobytes())
    ours, theirs = vx.load(tmp_path / "x.hdr"), nib.load(tmp_path / "x.hdr")
    assert np.array_equal(ours.get_fdata(), theirs.get_fdata())


# -- NiBabel's shipped analyze.hdr -----------------------------------------------------
def _with_image_file(tmp_path):
    """NiBabel's header-only analyze.hdr, copied beside an .img of the size it describes."""
    shutil.copy(NIB_ANALYZE_HDR, tmp_path / "analyze.hdr")
    (tmp_path / "analyze.img").write_bytes(bytes(range(256)) * (91 * 109 * 91 // 256 + 1))
    return tmp_path / "analyze.hdr"


def test_shipped_analyze_hdr_header_matches_nibabel(tmp_path):
    hdr = _with_image_file(tmp_path)
    ours, theirs = vx.load(hdr), nib.load(hdr)
    assert isinstance(ours, AnalyzeImage)
    assert ours.shape == theirs.shape == (91, 109, 91, 1)
    assert ours.get_data_dtype() == theirs.get_data_dtype()
    assert ours.header.endianness == ">"
    assert np.array_equal(ours.affine, theirs.affine)
    assert ours.dataobj.slope == pytest.approx(theirs.dataobj.slope)
    assert ours.header.get_slope_inter()[0] == pytest.approx(1715.04, rel=1e-5)
    assert ours.header["origin"][:3].tolist() == [46, 64, 37]
    assert ours.header.load_reports == []
    assert np.array_equal(ours.get_fdata(), theirs.get_fdata())


def test_shipped_header_only_file_is_refused_at_load_where_nibabel_waits_for_the_data():
    # a deliberate difference (docs/differences.md): NiBabel loads it and
    # fails only when the data are read
    theirs = nib.load(NIB_ANALYZE_HDR)
    with pytest.raises(FileNotFoundError):
        theirs.get_fdata()
    with pytest.raises(ImageFileError, match=r"analyze\.img' does not exist"):
        vx.load(NIB_ANALYZE_HDR)


def test_voxelio_info_shows_the_header_only_file_and_says_so(tmp_path):
    shutil.copy(NIB_ANALYZE_HDR, tmp_path / "analyze.hdr")
    cli = os.path.join(os.path.dirname(sys.executable), "voxelio")
    out = subprocess.run([cli, "info", str(tmp_path / "analyze.hdr")], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert "analyze" in out.stdout and "91, 109, 91, 1" in out.stdout
    assert f"(header only: {tmp_path / 'analyze.img'} does not exist)" in out.stdout


def test_voxelio_info_v_shows_the_header_only_files_class_affine_and_files(tmp_path):
    shutil.copy(NIB_ANALYZE_HDR, tmp_path / "analyze.hdr")
    cli = os.path.join(os.path.dirname(sys.executable), "voxelio")
    out = subprocess.run([cli, "info", "-v", str(tmp_path / "analyze.hdr")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "    class voxelio_analyze.image:AnalyzeImage" in lines
    start = lines.index("    affine") + 1
    shown = np.array([[float(v) for v in line.split()] for line in lines[start:start + 4]])
    assert np.allclose(shown, nib.load(NIB_ANALYZE_HDR).affine)  # what NiBabel makes of it
    assert f"    header file {tmp_path / 'analyze.hdr'}" in lines
    assert f"    image file {tmp_path / 'analyze.img'} (does not exist)" in lines


def test_shipped_analyze_hdr_round_trips_its_header_through_voxelio(tmp_path):
    img = vx.load(_with_image_file(tmp_path))
    img.to_filename(tmp_path / "copy.hdr")
    copy = (tmp_path / "copy.hdr").read_bytes()
    assert copy == (tmp_path / "analyze.hdr").read_bytes()
    again = nib.load(tmp_path / "copy.hdr")
    assert np.array_equal(again.affine, img.affine)
    assert np.array_equal(again.get_fdata(), img.get_fdata())

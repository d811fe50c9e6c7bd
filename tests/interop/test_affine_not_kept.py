"""A save whose format cannot store the image's affine says so (ConversionWarning).

Analyze keeps voxel sizes and an origin. NiBabel's AnalyzeImage is the
reference for what is stored (the same voxel sizes) and drops the rest
without a word; voxelio stores the same and warns, in a save, in a
conversion's ``conversion_report`` and in ``voxelio convert``'s summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import nibabel as nib
import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import ConversionWarning
from voxelio.geometry import affine_losses

DATA = np.arange(4 * 5 * 6, dtype=np.int16).reshape((4, 5, 6))
ROTATED = np.array([[0.0, -2, 0, 10], [2, 0, 0, 20], [0, 0, 2, 30], [0, 0, 0, 1]])
SHEARED = np.array([[-2.0, 0.5, 0, 1], [0, 3, 0, 2], [0, 0, 4, 3], [0, 0, 0, 1]])
RAS = np.diag([2.0, 3, 4, 1])  # x not flipped: Analyze's axes are radiological
RADIOLOGICAL = np.array([[-2.0, 0, 0, 4], [0, 3, 0, -6], [0, 0, 4, -8], [0, 0, 0, 1]])
KEPT = "the full affine (voxel sizes kept)"


def conversion_warnings(work):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = work()
    return result, [w.message for w in caught if issubclass(w.category, ConversionWarning)]


@pytest.mark.parametrize("affine", [ROTATED, SHEARED, RAS], ids=["rotated", "sheared", "ras"])
def test_an_analyze_save_warns_and_stores_what_nibabel_stores(tmp_path, affine):
    _, warned = conversion_warnings(
        lambda: vx.AnalyzeImage(DATA, affine).to_filename(tmp_path / "v.img"))
    assert len(warned) == 1
    assert warned[0].losses == (KEPT,)
    assert str(warned[0]).startswith(f"AnalyzeImage cannot keep: {KEPT}")
    nib.save(nib.AnalyzeImage(DATA, affine), tmp_path / "n.img")
    ours, theirs = nib.load(tmp_path / "v.hdr"), nib.load(tmp_path / "n.hdr")
    assert ours.header.get_zooms() == pytest.approx(theirs.header.get_zooms())
    back = vx.load(tmp_path / "v.hdr")
    assert not np.allclose(back.affine, affine, atol=1e-3)
    assert np.allclose(np.abs(np.diag(back.affine)[:3]),
                       np.sqrt((affine[:3, :3] ** 2).sum(axis=0)))


def test_an_affine_analyze_can_store_warns_nothing(tmp_path):
    _, warned = conversion_warnings(
        lambda: vx.AnalyzeImage(DATA, RADIOLOGICAL).to_filename(tmp_path / "v.img"))
    assert warned == []
    assert np.allclose(vx.load(tmp_path / "v.hdr").affine, RADIOLOGICAL)
    # and a loaded Analyze file saves again without a word
    _, warned = conversion_warnings(
        lambda: vx.save(vx.load(tmp_path / "v.hdr"), tmp_path / "again.img"))
    assert warned == []


def test_formats_that_store_a_full_affine_warn_nothing(tmp_path):
    for target in ("x.nii", "x.mgz", "p.img", "x2.nii"):
        fmt = "nifti2" if target == "x2.nii" else None
        _, warned = conversion_warnings(
            lambda t=target, f=fmt: vx.save(vx.Nifti1Image(DATA, SHEARED), tmp_path / t,
                                            format=f))
        assert warned == [], target
        assert np.allclose(vx.load(tmp_path / target).affine, SHEARED, atol=1e-4)


def test_a_conversion_reports_the_affine_once_in_its_report(tmp_path):
    nifti = vx.Nifti1Image(DATA, ROTATED)
    nifti.header["descrip"] = b"kept by Analyze too"
    converted, warned = conversion_warnings(lambda: vx.AnalyzeImage.from_image(nifti))
    assert converted.conversion_report == (KEPT,)
    assert [w.losses for w in warned] == [(KEPT,)]
    assert str(warned[0]).startswith("Nifti1Image -> AnalyzeImage cannot keep: ")
    # saving the converted image does not say it again; vx.save warns once in all
    _, again = conversion_warnings(lambda: converted.to_filename(tmp_path / "a.img"))
    assert again == []
    _, once = conversion_warnings(lambda: vx.save(nifti, tmp_path / "b.img", format="analyze"))
    assert [w.losses for w in once] == [(KEPT,)]


def test_voxelio_convert_lists_it_in_the_summary_not_as_a_warning(tmp_path):
    nifti = vx.Nifti1Image(DATA, ROTATED)
    nifti.header["descrip"] = b"x"
    vx.save(nifti, tmp_path / "r.nii")
    cli = os.path.join(os.path.dirname(sys.executable), "voxelio")
    done = subprocess.run([cli, "convert", str(tmp_path / "r.nii"), str(tmp_path / "r.hdr"),
                           "--format", "analyze"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"; not kept: {KEPT}")
    assert "cannot keep" not in done.stderr
    mgh = subprocess.run([cli, "convert", str(tmp_path / "r.nii"), str(tmp_path / "r.mgz")],
                         capture_output=True, text=True)
    assert mgh.returncode == 0 and "cannot keep" not in mgh.stderr
    assert mgh.stdout.strip().endswith("; not kept: descrip")


def test_affine_losses_compares_within_float32_precision():
    assert affine_losses(ROTATED, ROTATED + 1e-6) == ()
    assert affine_losses(ROTATED, None) == affine_losses(None, ROTATED) == ()
    assert affine_losses(RAS, np.diag([-2.0, 3, 4, 1])) == (KEPT,)
    assert affine_losses(RAS, np.diag([1.0, 3, 4, 1])) == ("the affine",)

"""Blocked-gzip .nii.gz/.mgz files (voxelio's default) are ordinary gzip to every reader."""

from __future__ import annotations

import gzip
import shutil
import subprocess

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk  # noqa: N813 (its customary name)

import voxelio as vx
from voxelio import codecs


@pytest.fixture(scope="module")
def volume() -> np.ndarray:
    rng = np.random.default_rng(7)
    smooth = np.cumsum(rng.normal(size=(40, 48, 36, 6)), axis=0)
    return (smooth * 50).astype(np.int16)


@pytest.fixture(scope="module")
def affine() -> np.ndarray:
    aff = np.diag([1.5, 1.5, 2.0, 1.0])
    aff[:3, 3] = [-30, -36, -35]
    return aff


@pytest.fixture(scope="module")
def written(tmp_path_factory, volume, affine):
    folder = tmp_path_factory.mktemp("blocked")
    paths = {}
    for name, data in (("nii.gz", volume), ("mgz", volume[..., 0])):
        path = folder / f"img.{name}"
        vx.save(
            vx.Nifti1Image(data, affine) if name == "nii.gz" else vx.MGHImage(data, affine), path
        )
        paths[name] = path
    return paths


def test_written_files_are_blocked(written):
    for path in written.values():
        with codecs.open_indexed(str(path)) as reader:
            assert reader.blocked, f"{path.name} was not written as blocked gzip"


@pytest.mark.skipif(shutil.which("gzip") is None, reason="gzip(1) is not installed")
def test_gzip_tool_accepts_them(written):
    for path in written.values():
        subprocess.run(["gzip", "-t", str(path)], check=True)


def test_python_gzip_reads_the_same_bytes_voxelio_reads(written):
    for path in written.values():
        with codecs.opened(str(path), "rb") as f:
            ours = f.read()
        assert gzip.decompress(path.read_bytes()) == ours


def test_nibabel_reads_them_identically(written, volume, affine):
    nii = nib.load(str(written["nii.gz"]))
    assert np.array_equal(np.asanyarray(nii.dataobj), volume)
    assert np.allclose(nii.affine, affine)
    mgz = nib.load(str(written["mgz"]))
    assert np.array_equal(np.asanyarray(mgz.dataobj), volume[..., 0])
    assert np.allclose(mgz.affine, affine, atol=1e-4)


def test_simpleitk_reads_them_identically(written, volume, affine):
    img = sitk.ReadImage(str(written["nii.gz"]))
    arr = sitk.GetArrayFromImage(img)  # SimpleITK orders axes (t, z, y, x)
    assert np.array_equal(arr.transpose(), volume)
    assert np.allclose(img.GetSpacing()[:3], [1.5, 1.5, 2.0])


def test_voxelio_volume_reads_match_from_blocked_file(written, volume):
    img = vx.load(written["nii.gz"])
    for t in (5, 0, 3):
        assert np.array_equal(img.dataobj[..., t], volume[..., t])

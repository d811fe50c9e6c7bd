"""NIfTI-1 interoperability: NiBabel and SimpleITK (test-only oracles) against voxelio."""

from __future__ import annotations

import os
import warnings

import nibabel as nib
import nibabel.testing as nib_testing
import numpy as np
import pytest

import voxelio as vx
from voxelio_nifti1.codes import DATATYPES
from voxelio_nifti1.image import Nifti1Image, Nifti1Pair

_SUFFIXES = (".nii", ".hdr", ".nii.gz", ".hdr.gz", ".nii.bz2", ".nii.zst")
AFFINE = np.array([[-2.0, 0.1, 0, 10], [0.2, 3, 0, -21], [0, 0, 4, -32], [0, 0, 0, 1]])


def _is_nifti1(path: str) -> bool:
    """NIfTI-1 by content (sizeof_hdr 348 + n+1/ni1 magic), through compression."""
    from voxelio.filemaps import FileHolder
    from voxelio.openfiles import reading

    try:
        with reading(FileHolder(filename=path)) as f:
            head = f.read(348)
    except Exception:
        return False
    return len(head) == 348 and head[344:348] in (b"n+1\x00", b"ni1\x00")


def _nibabel_files() -> list[str]:
    found = []
    for folder, _, names in os.walk(nib_testing.data_path):
        for name in names:
            path = os.path.join(folder, name)
            if name.lower().endswith(_SUFFIXES) and _is_nifti1(path):
                found.append(path)
    return sorted(found)


def _values(img):
    if img.get_data_dtype().fields is not None:
        return np.asarray(img.dataobj)
    return img.get_fdata()


@pytest.mark.parametrize(
    "path", _nibabel_files(), ids=lambda p: os.path.relpath(p, nib_testing.data_path)
)
def test_nibabel_test_file_loads_to_the_same_numbers(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ref = nib.load(path)
            expected = _values(ref)
        except Exception as err:
            reason = f"NiBabel itself cannot load {path}: {type(err).__name__}: {err}"
            print(reason)
            pytest.skip(reason)
        img = vx.load(path)
        got = _values(img)
    assert img.shape == ref.shape
    assert img.get_data_dtype() == ref.get_data_dtype()
    assert np.allclose(img.affine, ref.affine, atol=1e-5)
    assert np.allclose(img.header.get_zooms(), ref.header.get_zooms())
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected, equal_nan=expected.dtype.fields is None)


_DTYPES = [np.dtype(d) for d in DATATYPES.supported_dtypes()]


def _sample(dtype, shape=(5, 4, 3, 2)):
    base = (np.arange(int(np.prod(shape))) % 13).reshape(shape)
    if dtype.fields:
        arr = np.zeros(shape, dtype)
        for i, name in enumerate(dtype.names):
            arr[name] = base + i
        return arr
    arr = base.astype(dtype)
    return arr + 1j * arr if dtype.kind == "c" else arr


@pytest.mark.parametrize("dtype", _DTYPES, ids=str)
@pytest.mark.parametrize("name", ["a.nii", "a.nii.gz", "a.img"])
def test_nibabel_reads_what_voxelio_writes(tmp_path, dtype, name):
    klass = Nifti1Pair if name.endswith(".img") else Nifti1Image
    data = _sample(dtype)
    img = klass(data, AFFINE, dtype=dtype)
    img.header.set_xyzt_units("mm", "sec")
    img.to_filename(tmp_path / name)
    ref = nib.load(tmp_path / name)
    assert ref.get_data_dtype() == dtype
    assert np.allclose(ref.affine, AFFINE, atol=1e-5)
    assert np.array_equal(np.asarray(ref.dataobj), data)
    assert ref.header.get_xyzt_units() == ("mm", "sec")


@pytest.mark.parametrize("dtype", _DTYPES, ids=str)
@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("name", ["b.nii", "b.nii.gz", "b.img"])
def test_voxelio_reads_what_nibabel_writes(tmp_path, dtype, order, name):
    klass = nib.Nifti1Pair if name.endswith(".img") else nib.Nifti1Image
    data = _sample(dtype)
    hdr = klass.header_class(endianness=order)
    hdr.set_data_dtype(dtype)
    ref = klass(data, AFFINE, hdr)
    ref.header.extensions.append(nib.nifti1.Nifti1Extension(6, b"nibabel comment"))
    nib.save(ref, tmp_path / name)
    img = vx.load(tmp_path / name)
    back = nib.load(tmp_path / name)
    assert img.get_data_dtype() == back.get_data_dtype()
    assert img.header.endianness == order
    assert np.allclose(img.affine, back.affine)
    assert np.array_equal(np.asarray(img.dataobj), np.asarray(back.dataobj))
    assert img.header.extensions[0].text == "nibabel comment"


@pytest.mark.parametrize("name", ["s.nii", "s.nii.gz"])
def test_nibabel_scaled_int16_big_endian_5d(tmp_path, name):
    data = np.linspace(-100.5, 2000.25, 5 * 4 * 3 * 2 * 2).reshape(5, 4, 3, 2, 2)
    hdr = nib.Nifti1Header(endianness=">")
    ref = nib.Nifti1Image(data, AFFINE, hdr, dtype=np.int16)
    nib.save(ref, tmp_path / name)
    back = nib.load(tmp_path / name)
    img = vx.load(tmp_path / name)
    assert img.shape == back.shape
    assert np.allclose(img.get_fdata(), back.get_fdata())
    assert np.array_equal(img.dataobj.get_unscaled(), back.dataobj.get_unscaled())


import SimpleITK as sitk  # noqa: E402, N813  (test-only oracle, installed by make test)


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("name", ["k.nii", "k.nii.gz"])
def test_simpleitk_reads_voxelio_files(tmp_path, dtype, name):
    data = _sample(np.dtype(dtype), (6, 5, 4))
    affine = np.diag([1.5, 2.0, 2.5, 1.0])
    affine[:3, 3] = [-10, 20, 5]
    img = Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    img.to_filename(tmp_path / name)
    sim = sitk.ReadImage(str(tmp_path / name))
    arr = sitk.GetArrayFromImage(sim)  # (z, y, x)
    assert np.array_equal(arr.transpose(2, 1, 0), data)
    assert np.allclose(sim.GetSpacing(), [1.5, 2.0, 2.5])
    # ITK uses LPS: x and y are negated from NIfTI's RAS
    assert np.allclose(sim.GetOrigin(), [10, -20, 5])
    assert np.allclose(np.array(sim.GetDirection()).reshape(3, 3), np.diag([-1, -1, 1]))


def test_a_nan_intercept_with_a_valid_slope_loads_with_a_report_where_nibabel_refuses(tmp_path):
    # a deliberate difference (docs/differences.md, the NIfTI-1 page): the
    # values are readable as slope * stored, so voxelio reads them and says so
    img = nib.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.eye(4))
    img.header.set_slope_inter(2.0, 0.0)
    nib.save(img, tmp_path / "s.nii")
    raw = bytearray((tmp_path / "s.nii").read_bytes())
    raw[116:120] = np.float32(np.nan).tobytes()  # scl_inter, little-endian as NiBabel wrote it
    (tmp_path / "s.nii").write_bytes(bytes(raw))
    with pytest.raises(nib.spatialimages.HeaderDataError, match="invalid intercept"):
        nib.load(tmp_path / "s.nii")
    ours = vx.load(tmp_path / "s.nii")
    assert np.array_equal(ours.get_fdata(), np.arange(24).reshape(2, 3, 4) * 2.0)
    assert [r.problem_msg for r in ours.header.load_reports] == [
        "scl_inter is nan but scl_slope 2 scales the data (the intercept must be finite)"]

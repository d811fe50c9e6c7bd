"""voxelio.orientation against nibabel.orientations, on generated and real affines."""

from __future__ import annotations

import itertools
import os
import warnings

import nibabel as nib
import nibabel.orientations as nibo
import nibabel.testing as nib_testing
import numpy as np
import pytest

import voxelio as vx
from voxelio import orientation as vxo

ALL3 = [
    np.column_stack([perm, flips]).astype(float)
    for perm in itertools.permutations(range(3))
    for flips in itertools.product((1, -1), repeat=3)
]

REAL_FILES = ["example4d.nii.gz", "anatomical.nii", "functional.nii", "test.mgz",
              "standard.nii.gz", "reoriented_anat_moved.nii", "written.img", "written.mgz"]


def _rotation(rng, max_angle):
    """A random rotation of at most ``max_angle`` radians."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = rng.uniform(-max_angle, max_angle)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def generated_affines(count=1500, seed=11):
    """Permuted/flipped axes, rotated (slightly to very oblique), scaled, sheared."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        base = ALL3[i % len(ALL3)]
        perm = np.zeros((3, 3))
        for axis, (world, direction) in enumerate(base):
            perm[int(world), axis] = direction
        rot = _rotation(rng, [0.05, 0.4, 0.78, np.pi][i % 4])
        shear = np.eye(3)
        if i % 3 == 0:
            shear[0, 1], shear[1, 2] = rng.normal(scale=0.2, size=2)
        zooms = np.diag(rng.uniform(0.3, 5, size=3))
        affine = np.eye(4)
        affine[:3, :3] = rot @ perm @ shear @ zooms
        affine[:3, 3] = rng.normal(scale=80, size=3)
        yield affine


def test_io_orientation_equals_nibabel_on_many_affines():
    mismatches = []
    for affine in generated_affines():
        ours, theirs = vxo.io_orientation(affine), nibo.io_orientation(affine)
        if not np.array_equal(ours, theirs):
            mismatches.append((affine, ours, theirs))
        assert vxo.aff2axcodes(affine) == nibo.aff2axcodes(affine)
    assert not mismatches


def test_io_orientation_equals_nibabel_on_degenerate_and_non_square_affines():
    cases = [
        np.diag([2.0, 0.0, 3.0, 1.0]),
        np.diag([0.0, 0.0, 0.0, 1.0]),
        np.array([[1.0, 0, 0.1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]),
        np.array([[0.0, 2, 0], [-1, 0, 0], [0, 0, 1], [0, 0, 1]]),
        np.array([[1.0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
    ]
    for affine in cases:
        assert np.array_equal(vxo.io_orientation(affine), nibo.io_orientation(affine),
                              equal_nan=True)


def test_pure_functions_equal_nibabel_for_every_orientation():
    arr = np.arange(2 * 3 * 4 * 2).reshape(2, 3, 4, 2)
    for ornt in ALL3:
        assert np.array_equal(vxo.apply_orientation(arr, ornt), nibo.apply_orientation(arr, ornt))
        assert np.array_equal(vxo.inv_ornt_aff(ornt, arr.shape),
                              nibo.inv_ornt_aff(ornt, arr.shape))
        assert vxo.ornt2axcodes(ornt) == nibo.ornt2axcodes(ornt)
        codes = nibo.ornt2axcodes(ornt)
        assert np.array_equal(vxo.axcodes2ornt(codes), nibo.axcodes2ornt(codes))
        for end in ALL3[::7]:
            assert np.array_equal(vxo.ornt_transform(ornt, end), nibo.ornt_transform(ornt, end))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Analyze and MGH files voxelio writes (oblique, left-handed MGH geometry)."""
    folder = tmp_path_factory.mktemp("written")
    source = vx.load(os.path.join(nib_testing.data_path, "anatomical.nii"))
    vx.save(source, str(folder / "written.img"), format="analyze")
    oblique = source.affine @ np.array(
        [[0.9, 0.3, 0, 1], [-0.3, 0.9, 0.1, 2], [0, -0.1, -1, 3], [0, 0, 0, 1]]
    )
    mgh = vx.MGHImage(source.get_fdata().astype(np.float32), oblique)
    vx.save(mgh, str(folder / "written.mgz"))
    return folder


@pytest.fixture
def real(written):
    def pair(name):
        return _pair(name, str(written))

    return pair


def _pair(name, written_folder=None):
    folder = written_folder if name.startswith("written") else nib_testing.data_path
    path = os.path.join(folder, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return vx.load(path), nib.load(path)


@pytest.mark.parametrize("name", REAL_FILES)
def test_as_closest_canonical_equals_nibabel_on_real_files(name, real):
    ours, theirs = real(name)
    assert vxo.aff2axcodes(ours.affine) == nibo.aff2axcodes(theirs.affine)
    canonical = vx.as_closest_canonical(ours)
    expected = nib.as_closest_canonical(theirs)
    assert canonical.shape == expected.shape
    assert np.allclose(canonical.affine, expected.affine, atol=1e-5)
    assert np.array_equal(canonical.get_fdata(), expected.get_fdata())
    if vx.is_proxy(ours.dataobj):
        assert vx.is_proxy(canonical.dataobj)


@pytest.mark.parametrize("name", REAL_FILES)
def test_every_reorientation_equals_nibabel_and_undoes(name, real):
    ours, theirs = real(name)
    values = theirs.get_fdata()
    for ornt in ALL3[1::5]:
        new = ours.as_reoriented(ornt)
        expected = theirs.as_reoriented(ornt)
        assert np.allclose(new.affine, expected.affine, atol=1e-5)
        assert np.array_equal(new.get_fdata(), expected.get_fdata())
        # slicing the lazy view matches slicing NiBabel's reoriented array
        index = (slice(1, None, 2), 0, slice(None, None, -1))
        assert np.array_equal(new.dataobj[index], np.asarray(expected.dataobj)[index])
        back = new.as_reoriented(vxo.inverse_ornt(ornt))
        assert np.array_equal(back.affine, ours.affine)
        assert np.array_equal(back.get_fdata(), values)


def test_nifti_header_follows_the_axes(tmp_path):
    """dim_info moves as NiBabel moves it; qform and sform both keep their codes."""
    path = os.path.join(nib_testing.data_path, "example4d.nii.gz")
    ours, theirs = _pair("example4d.nii.gz")
    ours.header.set_dim_info(freq=0, phase=1, slice=2)
    theirs.header.set_dim_info(freq=0, phase=1, slice=2)
    ours.header["slice_code"] = 3  # alternating increasing
    ours.header["slice_start"], ours.header["slice_end"] = 1, 20
    ours.header["slice_duration"] = 0.1
    before = ours.header.get_slice_times()
    ornt = np.array([[1, 1], [2, -1], [0, -1]], dtype=float)
    new = ours.as_reoriented(ornt)
    expected = theirs.as_reoriented(ornt)
    assert new.header.get_dim_info() == expected.header.get_dim_info() == (1, 2, 0)
    # every slice keeps its acquisition time, counted along the reversed slice axis
    assert new.header.get_slice_times() == before[::-1]
    assert int(new.header["slice_code"]) == 4
    for kind in ("qform", "sform"):
        old_aff, old_code = getattr(ours.header, f"get_{kind}")(coded=True)
        new_aff, new_code = getattr(new.header, f"get_{kind}")(coded=True)
        assert new_code == old_code
        transform = vxo.inv_ornt_aff(ornt, ours.shape[:3])
        assert np.allclose(new_aff, old_aff @ transform, atol=1e-4)
    # saved and read back by NiBabel: same geometry and data as NiBabel's own reorientation
    out = str(tmp_path / "reoriented.nii.gz")
    vx.save(new, out)
    again = nib.load(out)
    assert np.allclose(again.affine, expected.affine, atol=1e-4)
    assert np.array_equal(again.get_fdata(), expected.get_fdata())
    assert again.header.get_dim_info() == (1, 2, 0)
    assert os.path.exists(path)


def test_saving_a_reoriented_scaled_image_keeps_stored_type_and_scaling(tmp_path):
    data = np.random.default_rng(4).normal(100, 30, size=(9, 8, 7, 2))
    path = str(tmp_path / "scaled.nii.gz")
    vx.save(vx.Nifti1Image(data, np.diag([2.0, 2, 2, 1])), path, dtype=np.int16)
    ours = vx.load(path)
    ornt = np.array([[1, -1], [2, 1], [0, -1]], dtype=float)
    new = ours.as_reoriented(ornt)
    out = str(tmp_path / "reoriented.nii.gz")
    vx.save(new, out)
    again = nib.load(out)
    assert again.get_data_dtype() == np.int16
    assert again.dataobj.slope == ours.dataobj.slope
    assert again.dataobj.inter == ours.dataobj.inter
    assert np.array_equal(np.asarray(again.dataobj.get_unscaled()),
                          vxo.apply_orientation(ours.dataobj.get_unscaled(), ornt))
    expected = nib.load(path).as_reoriented(ornt)
    assert np.allclose(again.affine, expected.affine)
    assert np.array_equal(again.get_fdata(), expected.get_fdata())


def test_the_docs_figure_draws(tmp_path):
    import importlib.util

    script = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "_scripts",
                          "axis_codes_figure.py")
    spec = importlib.util.spec_from_file_location("axis_codes_figure", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "axis_codes.png"
    module.draw(str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

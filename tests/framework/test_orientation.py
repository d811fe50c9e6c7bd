"""voxelio.orientation: the maths, lazy reorientation of proxy images, inverses."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import voxelio as vx
from voxelio.orientation import (
    OrientationError,
    aff2axcodes,
    apply_orientation,
    axcodes2ornt,
    inv_ornt_aff,
    inverse_ornt,
    io_orientation,
    ornt2axcodes,
    ornt_transform,
)
from voxelio.proxy import ArrayProxy
from voxelio.reoriented import ReorientedProxy
from voxelio_toy.image import ToyImage


def all_orientations(n: int = 3):
    for perm in itertools.permutations(range(n)):
        for flips in itertools.product((1, -1), repeat=n):
            yield np.column_stack([perm, flips]).astype(float)


ALL3 = list(all_orientations())


class RecordingProxy(ArrayProxy):
    """A real file proxy that also remembers each index it is asked for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests = []

    def __getitem__(self, index):
        self.requests.append(index)
        return super().__getitem__(index)

    def __array__(self, dtype=None, copy=None):
        self.requests.append("everything")
        return super().__array__(dtype, copy)


@pytest.fixture
def stored(tmp_path):
    """A scaled int16 4-D array in a raw file, with its proxy."""
    rng = np.random.default_rng(0)
    values = rng.integers(-300, 300, size=(5, 6, 7, 3)).astype(np.int16)
    path = tmp_path / "raw.bin"
    path.write_bytes(b"\0" * 16 + values.tobytes(order="F"))
    proxy = RecordingProxy(str(path), (values.shape, "<i2", 16, 0.5, -3.0))
    return values * 0.5 - 3.0, proxy


def test_axcodes_round_trip_every_orientation():
    for ornt in ALL3:
        codes = ornt2axcodes(ornt)
        assert np.array_equal(axcodes2ornt(codes), ornt)
    assert ornt2axcodes([[0, 1], [1, 1], [2, 1]]) == ("R", "A", "S")
    assert ornt2axcodes([[0, -1], [2, 1], [1, -1]]) == ("L", "S", "P")
    assert np.isnan(axcodes2ornt(("R", None, "S"))[1]).all()
    assert ornt2axcodes(axcodes2ornt(("R", None, "S"))) == ("R", None, "S")


def test_axcodes_with_other_labels():
    labels = (("-x", "+x"), ("-y", "+y"), ("-z", "+z"))
    assert ornt2axcodes([[1, -1], [0, 1], [2, 1]], labels) == ("-y", "+x", "+z")
    assert np.array_equal(axcodes2ornt(("-y", "+x", "+z"), labels), [[1, -1], [0, 1], [2, 1]])


@pytest.mark.parametrize("codes", [("R", "X", "S"), ("R", "L", "S")])
def test_bad_axcodes_are_refused(codes):
    with pytest.raises(OrientationError):
        axcodes2ornt(codes)


def test_io_orientation_of_permuted_flipped_scaled_affines():
    rng = np.random.default_rng(1)
    for ornt in ALL3:
        # affine whose voxel axis i runs along world axis ornt[i, 0]
        affine = np.eye(4)
        affine[:3, :3] = 0
        for axis, (world, direction) in enumerate(ornt):
            affine[int(world), axis] = direction * rng.uniform(0.5, 4)
        affine[:3, 3] = rng.normal(size=3) * 50
        assert np.array_equal(io_orientation(affine), ornt)


def test_io_orientation_of_an_oblique_affine_takes_the_nearest_axes():
    angle = np.deg2rad(30)
    rot = np.array(
        [[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]]
    )
    affine = np.eye(4)
    affine[:3, :3] = rot @ np.diag([-2.0, 2.0, 3.0])
    assert aff2axcodes(affine) == ("L", "A", "S")
    affine[:3, :3] = rot[:, [2, 0, 1]]  # 30 degrees off S, R, A
    assert aff2axcodes(affine) == ("S", "R", "A")


def test_io_orientation_of_degenerate_axes_is_nan():
    affine = np.diag([2.0, 0.0, 3.0, 1.0])
    ornt = io_orientation(affine)
    assert np.array_equal(ornt[[0, 2]], [[0, 1], [2, 1]])
    assert np.isnan(ornt[1]).all()
    assert aff2axcodes(affine) == ("R", None, "S")
    # more voxel axes than world axes: one voxel axis gets no direction
    wide = np.array([[1.0, 0, 0.1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
    assert np.isnan(io_orientation(wide)).any()


def test_apply_orientation_then_inverse_is_identity_for_every_orientation():
    arr = np.arange(2 * 3 * 4 * 2).reshape(2, 3, 4, 2)
    for ornt in ALL3:
        moved = apply_orientation(arr, ornt)
        expected_shape = [0, 0, 0]
        for axis, target in enumerate(ornt[:, 0].astype(int)):
            expected_shape[target] = arr.shape[axis]
        assert moved.shape == (*expected_shape, 2)
        assert np.array_equal(apply_orientation(moved, inverse_ornt(ornt)), arr)


def test_inv_ornt_aff_maps_new_voxels_to_the_old_ones():
    arr = np.arange(3 * 4 * 5).reshape(3, 4, 5)
    for ornt in ALL3:
        moved = apply_orientation(arr, ornt)
        transform = inv_ornt_aff(ornt, arr.shape)
        for new_index in itertools.product(*(range(n) for n in moved.shape)):
            old = transform @ [*new_index, 1]
            assert moved[new_index] == arr[tuple(old[:3].astype(int))]


def test_ornt_transform_takes_start_to_end():
    arr = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    rng = np.random.default_rng(2)
    for _ in range(40):
        start, end = (ALL3[i] for i in rng.integers(0, len(ALL3), 2))
        # an array in start orientation, seen in end orientation
        canonical = arr
        in_start = apply_orientation(canonical, inverse_ornt(start))
        in_end = apply_orientation(canonical, inverse_ornt(end))
        assert np.array_equal(apply_orientation(in_start, ornt_transform(start, end)), in_end)
    with pytest.raises(ValueError):
        ornt_transform([[0, 1], [1, 1]], [[0, 1], [2, 1]])
    with pytest.raises(ValueError):
        ornt_transform([[0, 1], [1, 1]], [[0, 1], [1, 1], [2, 1]])


@pytest.mark.parametrize(
    "ornt", [[[0, 1], [0, 1], [2, 1]], [[0, 2], [1, 1], [2, 1]], [[0, 1], [1, 1], [5, 1]],
             [[0, np.nan], [1, 1], [2, 1]], [[0, 1, 0]]]
)
def test_invalid_orientations_are_refused(ornt):
    with pytest.raises(OrientationError):
        apply_orientation(np.zeros((2, 2, 2)), ornt)


def test_top_level_names():
    for name in ("aff2axcodes", "axcodes2ornt", "io_orientation", "ornt_transform",
                 "inv_ornt_aff", "apply_orientation", "as_closest_canonical", "inverse_ornt"):
        assert getattr(vx, name) is getattr(vx.orientation, name)


# -- lazy views --------------------------------------------------------------------------
INDICES = [
    (),
    (slice(1, 4), 2, slice(None, None, -2)),
    (Ellipsis, 1),
    (0, slice(None), slice(2, 5), 2),
    (slice(None, None, -1), None, slice(1, 2)),
    (-1, -2, -3, -1),
    (slice(4, 1, -1), Ellipsis, None),
    (slice(0, 0),),
    ([0, 2], 1),  # fancy: read whole, then index
]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_reoriented_proxy_slices_like_the_reoriented_array(stored, index):
    values, proxy = stored
    for ornt in ALL3[::5]:
        view = ReorientedProxy(proxy, ornt)
        expected = apply_orientation(values, ornt)
        assert view.shape == expected.shape
        if isinstance(index, tuple) and any(isinstance(i, list) for i in index):
            assert np.array_equal(view[index], expected[index])
            continue
        assert np.array_equal(view[index], expected[index])
    assert np.array_equal(np.asarray(view), expected)


def test_reoriented_proxy_reads_only_the_box_needed(stored):
    values, proxy = stored
    view = ReorientedProxy(proxy, [[2, -1], [0, 1], [1, -1]])  # shape (7, 5, 6, 3)
    got = view[3, 1:3, 0, 2]
    assert np.array_equal(got, apply_orientation(values, view.ornt)[3, 1:3, 0, 2])
    # one request of the underlying proxy, 2 elements big, no full read
    (request,) = proxy.requests
    assert np.asarray(proxy)[request].size == 2
    assert "everything" not in proxy.requests[:1]


def test_reoriented_proxy_keeps_stored_values_and_scaling(stored):
    values, proxy = stored
    ornt = [[1, -1], [0, 1], [2, -1]]
    view = ReorientedProxy(proxy, ornt)
    assert view.dtype == np.dtype("<i2")
    assert (view.slope, view.inter) == (0.5, -3.0)
    assert view.scaled_dtype == np.float64
    assert vx.is_proxy(view)
    assert np.array_equal(view.get_unscaled(), apply_orientation(proxy.get_unscaled(), ornt))
    assert np.array_equal(np.asarray(view, dtype=np.float32),
                          apply_orientation(values, ornt).astype(np.float32))


def test_views_of_views_collapse_and_undo(stored):
    _, proxy = stored
    from voxelio.reoriented import reorient_dataobj

    ornt = np.array([[1, -1], [2, 1], [0, -1]], dtype=float)
    view = reorient_dataobj(proxy, ornt)
    assert reorient_dataobj(view, inverse_ornt(ornt)) is proxy
    twice = reorient_dataobj(view, ornt)
    assert twice.base is proxy
    assert np.array_equal(np.asarray(twice), apply_orientation(apply_orientation(
        np.asarray(proxy), ornt), ornt))


# -- images ------------------------------------------------------------------------------
def test_as_reoriented_of_a_proxy_image_is_lazy_and_undoable(toy_file):
    img = vx.load(toy_file)
    assert vx.is_proxy(img.dataobj)
    ornt = np.array([[2, -1], [0, 1], [1, -1]], dtype=float)
    new = img.as_reoriented(ornt)
    assert isinstance(new.dataobj, ReorientedProxy)
    assert not new.in_memory
    assert type(new) is type(img)
    expected = apply_orientation(img.get_fdata(caching="unchanged"), ornt)
    assert np.array_equal(new.get_fdata(), expected)
    assert new.header.get_data_shape() == new.shape
    # the same world point for every voxel
    transform = inv_ornt_aff(ornt, img.shape)
    for ijk in [(0, 0, 0), (1, 2, 3), (3, 1, 0)]:
        old = (transform @ [*ijk, 1])[:3]
        assert np.allclose(new.affine @ [*ijk, 1], img.affine @ [*old, 1])
    back = new.as_reoriented(inverse_ornt(ornt))
    assert back.dataobj is img.dataobj
    assert np.array_equal(back.affine, img.affine)
    assert back.header.get_zooms() == img.header.get_zooms()


def test_as_reoriented_identity_returns_the_image(toy_file):
    img = vx.load(toy_file)
    assert img.as_reoriented([[0, 1], [1, 1], [2, 1]]) is img


def test_as_reoriented_moves_only_spatial_axes(affine):
    data = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    img = ToyImage(data, affine)
    new = img.as_reoriented([[1, 1], [0, -1], [2, 1], [3, 1]])
    assert new.shape == (3, 2, 4, 5)
    with pytest.raises(OrientationError, match="spatial"):
        img.as_reoriented([[0, 1], [1, 1], [3, 1], [2, 1]])
    with pytest.raises(OrientationError):
        img.as_reoriented(np.tile([[0, 1]], (5, 1)))


def test_as_closest_canonical_of_a_flipped_image(affine):
    data = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    flipped = affine.copy()
    flipped[:3, :3] = [[0, 0, -2], [3, 0, 0], [0, -4, 0]]  # axes point S<-, A, I
    img = ToyImage(data, flipped)
    canonical = vx.as_closest_canonical(img)
    assert aff2axcodes(canonical.affine) == ("R", "A", "S")
    assert np.all(np.diag(canonical.affine)[:3] > 0)
    assert vx.as_closest_canonical(canonical) is canonical
    ornt = io_orientation(img.affine)
    back = canonical.as_reoriented(inverse_ornt(ornt))
    assert np.array_equal(back.get_fdata(), img.get_fdata())
    assert np.allclose(back.affine, img.affine)
    oblique = affine.copy()
    oblique[0, 1] = 1.0
    with pytest.raises(OrientationError, match="diagonal"):
        vx.as_closest_canonical(ToyImage(data, oblique), enforce_diag=True)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_an_affine_with_nan_or_inf_has_no_orientation(bad):
    # found by the fuzzer: a corrupted header's affine made the SVD fail to
    # converge (numpy LinAlgError) in io_orientation and as_closest_canonical
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[1, 0] = bad
    with pytest.raises(OrientationError, match="infinite or NaN"):
        io_orientation(affine)
    with pytest.raises(OrientationError):
        vx.as_closest_canonical(ToyImage(np.zeros((2, 3, 4), np.int16), affine))

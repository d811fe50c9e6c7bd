import numpy as np
import pytest

from voxelio.errors import HeaderDataError
from voxelio_nifti1.affines import (
    decompose_for_qform,
    matrix_to_quaternion,
    qform_affine,
    quaternion_from_bcd,
    quaternion_to_matrix,
)


def random_rotation(rng):
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    return q if q[0] >= 0 else -q


def test_quaternion_matrix_round_trip():
    rng = np.random.default_rng(1)
    for _ in range(200):
        q = random_rotation(rng)
        rot = quaternion_to_matrix(q)
        assert np.allclose(rot @ rot.T, np.eye(3))
        assert np.isclose(np.linalg.det(rot), 1)
        assert np.allclose(matrix_to_quaternion(rot), q)


def test_180_degree_rotation_has_zero_a():
    q = matrix_to_quaternion(np.diag([1.0, -1, -1]))
    assert np.allclose(q, [0, 1, 0, 0])


def test_a_recovered_from_bcd_and_bad_norm_refused():
    assert np.allclose(quaternion_from_bcd(0, 0, 0), [1, 0, 0, 0])
    assert quaternion_from_bcd(1.0000001, 0, 0)[0] == 0
    with pytest.raises(HeaderDataError):
        quaternion_from_bcd(1.1, 0, 0)


def test_decompose_and_rebuild_left_handed_affine():
    aff = np.diag([-2.0, 3, 4, 1])
    aff[:3, 3] = [10, -20, 30]
    quat, qfac, zooms, offsets = decompose_for_qform(aff)
    assert qfac in (1, -1)
    assert np.allclose(zooms, [2, 3, 4])
    assert np.allclose(qform_affine(quat[1:], qfac, zooms, offsets), aff)


def test_shears_stripped_or_refused():
    aff = np.eye(4)
    aff[0, 1] = 0.3
    decompose_for_qform(aff)  # stripped silently
    with pytest.raises(HeaderDataError, match="shears"):
        decompose_for_qform(aff, strip_shears=False)


def test_zero_zoom_axis_does_not_break_decomposition():
    aff = np.diag([2.0, 0, 4, 1])
    quat, _, zooms, _ = decompose_for_qform(aff)
    assert np.all(np.isfinite(quat)) and zooms[1] == 0

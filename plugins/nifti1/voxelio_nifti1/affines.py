"""Quaternion and affine arithmetic of the NIfTI-1 qform.

The qform stores a rotation as the quaternion (a, b, c, d) of which only
b, c, d are on disk: a is recovered as ``sqrt(1 - b^2 - c^2 - d^2)``,
always non-negative. A left-handed voxel grid is expressed with
``qfac = pixdim[0] = -1``, which flips the third voxel axis. Rotations are
therefore proper (determinant +1) and voxel axes orthogonal: shears and
non-orthogonal axes can only live in the sform.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from voxelio.plugin import HeaderDataError

#: how far below zero ``1 - |bcd|^2`` may be (float32 rounding) before the
#: quaternion counts as invalid rather than as a 180 degree rotation
QUATERNION_THRESHOLD = 3 * float(np.finfo(np.float32).eps)


def quaternion_from_bcd(b: float, c: float, d: float, precision: Any = np.float32) -> np.ndarray:
    """The unit quaternion (a, b, c, d) with a >= 0 recovered from the stored b, c, d.

    ``1 - |bcd|^2`` is computed in ``precision``, that of the stored fields
    (float32 in NIfTI-1, float64 in NIfTI-2), so that a rotation of 180
    degrees (a = 0) stored with rounding error reads as a = 0 and not as a
    small spurious angle.

    Raises
    ------
    HeaderDataError
        If ``|bcd|`` exceeds 1 by more than rounding in ``precision`` can explain.
    """
    ftype = np.dtype(precision).type
    bcd = np.array([b, c, d], dtype=ftype)
    a2 = float(ftype(1.0) - ftype(np.sum(bcd * bcd, dtype=ftype)))
    if a2 < 0:
        if a2 < -3 * float(np.finfo(ftype).eps):
            raise HeaderDataError(
                f"quatern_b/c/d = {float(b)}, {float(c)}, {float(d)} have norm above 1: "
                "they do not describe a rotation"
            )
        a2 = 0.0
    return np.array([np.sqrt(a2), *bcd.astype(np.float64)])


def quaternion_to_matrix(q: Sequence[float]) -> np.ndarray:
    """3x3 rotation matrix of quaternion ``q = (a, b, c, d)`` (normalised first).

    A quaternion of (nearly) zero norm gives the identity.
    """
    a, b, c, d = (float(v) for v in q)
    norm2 = a * a + b * b + c * c + d * d
    if norm2 < np.finfo(np.float64).eps:
        return np.eye(3)
    s = 2.0 / norm2
    return np.array(
        [
            [1 - s * (c * c + d * d), s * (b * c - a * d), s * (b * d + a * c)],
            [s * (b * c + a * d), 1 - s * (b * b + d * d), s * (c * d - a * b)],
            [s * (b * d - a * c), s * (c * d + a * b), 1 - s * (b * b + c * c)],
        ]
    )


def matrix_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """Unit quaternion (a, b, c, d), a >= 0, of a proper 3x3 rotation matrix.

    Uses the eigenvector of the symmetric 4x4 matrix built from the
    rotation (Bar-Itzhack's method), which is stable for every angle,
    including 180 degrees, and tolerates a matrix slightly off orthogonal.
    """
    r = np.asarray(rotation, dtype=np.float64)
    xx, xy, xz = r[0]
    yx, yy, yz = r[1]
    zx, zy, zz = r[2]
    k = np.array(
        [
            [xx - yy - zz, yx + xy, zx + xz, zy - yz],
            [yx + xy, yy - xx - zz, zy + yz, xz - zx],
            [zx + xz, zy + yz, zz - xx - yy, yx - xy],
            [zy - yz, xz - zx, yx - xy, xx + yy + zz],
        ]
    ) / 3.0
    values, vectors = np.linalg.eigh(k)
    x, y, z, w = vectors[:, int(np.argmax(values))]
    q = np.array([w, x, y, z])
    if q[0] < 0:
        q = -q
    return q / np.linalg.norm(q)


def qform_affine(
    bcd: Sequence[float], qfac: float, zooms: Sequence[float], offsets: Sequence[float],
    precision: Any = np.float32,
) -> np.ndarray:
    """The 4x4 qform affine from the stored quaternion fields.

    Parameters
    ----------
    bcd : (3,) sequence
        quatern_b, quatern_c, quatern_d.
    qfac : float
        pixdim[0]: 1 or -1 (-1 flips the third voxel axis).
    zooms : (3,) sequence
        pixdim[1:4].
    offsets : (3,) sequence
        qoffset_x, qoffset_y, qoffset_z.
    precision : numpy float type
        That of the stored fields (see :func:`quaternion_from_bcd`).
    """
    rotation = quaternion_to_matrix(quaternion_from_bcd(*bcd, precision=precision))
    scales = np.array([float(z) for z in zooms], dtype=np.float64)
    scales[2] *= qfac
    affine = np.eye(4)
    affine[:3, :3] = rotation * scales
    affine[:3, 3] = [float(o) for o in offsets]
    return affine


def decompose_for_qform(
    affine: np.ndarray, strip_shears: bool = True
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Split an affine into what the qform can store.

    Returns
    -------
    quaternion : (4,) ndarray
        (a, b, c, d) of the nearest rotation.
    qfac : float
        1 for a right-handed voxel grid, -1 for a left-handed one.
    zooms : (3,) ndarray
        Lengths of the three voxel axes.
    offsets : (3,) ndarray
        The translation.

    Raises
    ------
    HeaderDataError
        If the affine has shears (non-orthogonal axes) and ``strip_shears``
        is False, or cannot be decomposed (non-finite values).
    """
    aff = np.asarray(affine, dtype=np.float64)
    if aff.shape != (4, 4):
        raise HeaderDataError(f"a qform needs a 4x4 affine, not shape {aff.shape}")
    if not np.all(np.isfinite(aff)):
        raise HeaderDataError(f"cannot store a non-finite affine in the qform:\n{aff}")
    rzs = aff[:3, :3]
    zooms = np.sqrt(np.sum(rzs * rzs, axis=0))
    # a zero-length axis has no direction: give it a unit one so the
    # rotation stays defined; the zero zoom is kept
    safe = np.where(zooms == 0, 1.0, zooms)
    directions = rzs / safe
    for axis in np.flatnonzero(zooms == 0):
        directions[:, axis] = 0.0
        directions[axis, axis] = 1.0
    qfac = 1.0
    if np.linalg.det(directions) < 0:
        qfac = -1.0
        directions[:, 2] *= -1
    try:
        left, _, right = np.linalg.svd(directions)
    except np.linalg.LinAlgError as err:
        raise HeaderDataError(f"cannot decompose affine for the qform: {err}\n{aff}") from None
    rotation = left @ right
    if not strip_shears and not np.allclose(rotation, directions):
        raise HeaderDataError(
            "the affine has shears (non-orthogonal voxel axes), which the qform cannot store; "
            "pass strip_shears=True to store the nearest rotation, or use the sform"
        )
    if np.linalg.det(rotation) < 0:  # a degenerate (rank-deficient) input
        rotation[:, 2] *= -1
        qfac = -qfac
    return matrix_to_quaternion(rotation), qfac, zooms, aff[:3, 3].copy()

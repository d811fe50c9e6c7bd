"""Axis orientation: which world direction each array axis points along.

An *orientation* (``ornt``) is an ``(n, 2)`` array with one row per array
axis: the world axis it lies closest to (0, 1, 2 for x, y, z) and +1 if the
array index grows along that world axis, -1 if it grows against it. A row
of NaN means the array axis has no world direction (a degenerate affine).

Axis codes name the same thing with letters: ``('R', 'A', 'S')`` says the
first array axis runs towards the Right, the second Anterior, the third
Superior (RAS+, the "closest canonical" orientation).

Reorienting an array means flipping and transposing its first ``n`` axes:
``apply_orientation(arr, ornt)`` does it, ``inv_ornt_aff(ornt, shape)``
gives the voxel transform that keeps the image in the same place in the
world, and ``inverse_ornt(ornt)`` undoes it::

    >>> ornt = io_orientation(img.affine)                     # doctest: +SKIP
    >>> canonical = img.as_reoriented(ornt)                   # doctest: +SKIP
    >>> original = canonical.as_reoriented(inverse_ornt(ornt))  # doctest: +SKIP

The names and meanings are those NiBabel users know (``nibabel.orientations``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import VoxelioError

#: the (negative, positive) direction letters of the x, y and z world axes
RAS_LABELS: tuple[tuple[str, str], ...] = (("L", "R"), ("P", "A"), ("I", "S"))


class OrientationError(VoxelioError, ValueError):
    """An orientation cannot be computed, applied or inverted."""


def io_orientation(affine: Any, tol: float | None = None) -> np.ndarray:
    """The world axis and direction closest to each voxel axis of ``affine``.

    Works for any ``(q + 1, p + 1)`` affine mapping ``p`` voxel axes to
    ``q`` world axes. Voxel sizes and shears are ignored: the direction
    part of the affine is replaced by its closest orthogonal matrix (polar
    decomposition), so oblique and left-handed affines get the axis they
    lie nearest. Voxel axes are matched strongest first; each takes the
    world axis it lies closest to among those not already taken.

    Parameters
    ----------
    affine : (q + 1, p + 1) array-like
        Voxel-to-world affine.
    tol : float, optional
        Singular values of the direction matrix at or below ``tol`` count as
        zero (their axes get NaN rows). Default: ``S.max() * max(p, q) * eps``.

    Returns
    -------
    ornt : (p, 2) ndarray
        Row ``i``: world axis of voxel axis ``i`` and its direction (+1/-1),
        or NaN for a voxel axis without a direction.

    Raises
    ------
    OrientationError
        If ``affine`` is not 2-D or its direction part holds infinite or
        NaN values.
    """
    affine = np.asarray(affine, dtype=np.float64)
    if affine.ndim != 2 or min(affine.shape) < 2:
        raise OrientationError(f"an affine must be a 2-D (q+1, p+1) array, not {affine.shape}")
    n_world, n_vox = affine.shape[0] - 1, affine.shape[1] - 1
    directions = affine[:n_world, :n_vox].copy()
    if not np.isfinite(directions).all():  # the SVD below would not converge
        raise OrientationError(
            f"the affine has infinite or NaN values, so no orientation: {affine.tolist()}"
        )
    lengths = np.linalg.norm(directions, axis=0)
    directions /= np.where(lengths == 0, 1.0, lengths)
    left, singular, right = np.linalg.svd(directions, full_matrices=False)
    if tol is None:
        tol = singular.max(initial=0.0) * max(directions.shape) * np.finfo(np.float64).eps
    rank = singular > tol
    # nearest matrix with orthonormal columns (on the non-degenerate subspace)
    nearest = left[:, rank] @ right[rank]
    ornt = np.full((n_vox, 2), np.nan)
    # strongest voxel axes choose first, so that a near-tie between two axes
    # is settled by the one that is clearly aligned; stable for exact ties
    strength = (nearest**2).max(axis=0, initial=0.0)
    for vox_axis in np.argsort(-strength, kind="stable"):
        column = nearest[:, vox_axis]
        if np.allclose(column, 0):
            continue
        world_axis = int(np.argmax(np.abs(column)))
        ornt[vox_axis] = (world_axis, 1.0 if column[world_axis] > 0 else -1.0)
        nearest[world_axis, :] = 0  # each world axis is taken once
    return ornt


def axcodes2ornt(
    axcodes: Sequence[str | None], labels: Sequence[Sequence[str]] | None = None
) -> np.ndarray:
    """The orientation named by axis codes such as ``('L', 'A', 'S')``.

    Parameters
    ----------
    axcodes : sequence of str or None
        One letter per axis, the direction the index grows towards; None for
        an axis without a direction.
    labels : sequence of (str, str), optional
        The (negative, positive) letters of each world axis; default
        :data:`RAS_LABELS`.

    Raises
    ------
    OrientationError
        For an unknown letter or two codes on the same world axis.
    """
    labels = RAS_LABELS if labels is None else tuple(tuple(pair) for pair in labels)
    lookup: dict[str, tuple[int, int]] = {}
    for world_axis, (negative, positive) in enumerate(labels):
        lookup[negative] = (world_axis, -1)
        lookup[positive] = (world_axis, 1)
    ornt = np.full((len(axcodes), 2), np.nan)
    seen: set[int] = set()
    for i, code in enumerate(axcodes):
        if code is None:
            continue
        if code not in lookup:
            raise OrientationError(
                f"axis code {code!r} is none of the labels {sorted(lookup)}"
            )
        world_axis, direction = lookup[code]
        if world_axis in seen:
            raise OrientationError(f"axis codes {tuple(axcodes)} name one world axis twice")
        seen.add(world_axis)
        ornt[i] = (world_axis, direction)
    return ornt


def ornt2axcodes(
    ornt: Any, labels: Sequence[Sequence[str]] | None = None
) -> tuple[str | None, ...]:
    """The axis codes of an orientation (None for NaN rows)."""
    labels = RAS_LABELS if labels is None else tuple(tuple(pair) for pair in labels)
    ornt = _as_ornt(ornt, allow_nan=True)
    codes: list[str | None] = []
    for world_axis, direction in ornt:
        if np.isnan(world_axis):
            codes.append(None)
            continue
        axis = int(world_axis)
        if axis >= len(labels):
            raise OrientationError(f"world axis {axis} has no labels (labels: {labels})")
        if direction not in (1, -1):
            raise OrientationError(f"direction {direction} must be 1 or -1")
        codes.append(labels[axis][1 if direction == 1 else 0])
    return tuple(codes)


def aff2axcodes(
    aff: Any, labels: Sequence[Sequence[str]] | None = None, tol: float | None = None
) -> tuple[str | None, ...]:
    """Axis codes of an affine, e.g. ``('R', 'A', 'S')`` (see :func:`io_orientation`)."""
    return ornt2axcodes(io_orientation(aff, tol), labels)


def ornt_transform(start_ornt: Any, end_ornt: Any) -> np.ndarray:
    """The orientation that takes an array oriented ``start_ornt`` to ``end_ornt``.

    Both must name the same world axes (in any order and direction).
    """
    start = _as_ornt(start_ornt)
    end = _as_ornt(end_ornt)
    if start.shape != end.shape:
        raise OrientationError(
            f"orientations have different shapes: {start.shape} and {end.shape}"
        )
    where_in_end = {int(axis): i for i, axis in enumerate(end[:, 0])}
    result = np.empty_like(start)
    for i, (world_axis, direction) in enumerate(start):
        target = where_in_end.get(int(world_axis))
        if target is None:
            raise OrientationError(
                f"world axis {int(world_axis)} of the start orientation is not in the end one"
            )
        result[i] = (target, direction * end[target, 1])
    return result


def inverse_ornt(ornt: Any) -> np.ndarray:
    """The orientation that undoes ``ornt``.

    ``apply_orientation(apply_orientation(arr, ornt), inverse_ornt(ornt))``
    is ``arr`` again, and ``img.as_reoriented(ornt).as_reoriented(inverse_ornt(ornt))``
    has the original data and affine.
    """
    ornt = _as_ornt(ornt)
    inverse = np.empty_like(ornt)
    for axis, (target, direction) in enumerate(ornt):
        inverse[int(target)] = (axis, direction)
    return inverse


def inv_ornt_aff(ornt: Any, shape: Sequence[int]) -> np.ndarray:
    """Voxel transform from a reoriented array back to the original one.

    ``affine @ inv_ornt_aff(ornt, shape)`` is the affine of
    ``apply_orientation(arr, ornt)`` when ``affine`` is that of ``arr``
    (``shape`` is ``arr.shape``; only its first ``len(ornt)`` axes count).

    Returns
    -------
    (p + 1, p + 1) ndarray
        Maps voxel indices of the reoriented array to voxel indices of the
        original: axis ``i`` of the original is axis ``ornt[i, 0]`` of the new
        array, counted from the far end when ``ornt[i, 1]`` is -1.
    """
    ornt = _as_ornt(ornt)
    n = len(ornt)
    shape = tuple(int(s) for s in shape)
    if len(shape) < n:
        raise OrientationError(f"shape {shape} has fewer axes than the orientation ({n})")
    transform = np.zeros((n + 1, n + 1))
    transform[n, n] = 1
    for axis, (target, direction) in enumerate(ornt):
        transform[axis, int(target)] = direction
        if direction < 0:
            transform[axis, n] = shape[axis] - 1
    return transform


def apply_orientation(arr: Any, ornt: Any) -> np.ndarray:
    """Flip and transpose the first ``len(ornt)`` axes of ``arr`` (a view, no copy).

    Axis ``i`` of ``arr`` becomes axis ``ornt[i, 0]`` of the result, reversed
    when ``ornt[i, 1]`` is -1. Later axes (time...) stay where they are.
    """
    arr = np.asanyarray(arr)
    ornt = _as_ornt(ornt)
    n = len(ornt)
    if n > arr.ndim:
        raise OrientationError(f"orientation has {n} rows for a {arr.ndim}-d array")
    flips = tuple(slice(None, None, -1) if d < 0 else slice(None) for d in ornt[:, 1])
    flipped = arr[flips]
    order = np.empty(n, dtype=int)
    order[ornt[:, 0].astype(int)] = np.arange(n)
    return flipped.transpose((*order, *range(n, arr.ndim)))


def as_closest_canonical(img: Any, enforce_diag: bool = False) -> Any:
    """The image reoriented so that its voxel axes run closest to R, A and S.

    The image itself is returned when it already is; otherwise
    ``img.as_reoriented(io_orientation(img.affine))`` (lazy for proxy
    images). Undo it with ``result.as_reoriented(inverse_ornt(ornt))``
    where ``ornt = io_orientation(img.affine)``.

    Parameters
    ----------
    img : SpatialImage
        An image with a 4x4 affine.
    enforce_diag : bool, optional
        Raise OrientationError if the result's affine is not diagonal
        (an oblique image stays oblique after reorientation).
    """
    if img.affine is None:
        raise OrientationError("an image without an affine has no orientation")
    ornt = io_orientation(img.affine)
    if np.isnan(ornt).any():
        raise OrientationError(
            f"the affine has a degenerate axis, so no canonical orientation: {ornt.tolist()}"
        )
    result = img if is_identity(ornt) else img.as_reoriented(ornt)
    if enforce_diag and not _is_diagonal(result.affine):
        raise OrientationError("the reoriented affine is not diagonal (the image is oblique)")
    return result


def is_identity(ornt: Any) -> bool:
    """True when ``ornt`` moves and flips nothing."""
    ornt = np.asarray(ornt, dtype=float)
    return bool(
        np.array_equal(ornt[:, 0], np.arange(len(ornt))) and np.all(ornt[:, 1] == 1)
    )


def _is_diagonal(affine: np.ndarray) -> bool:
    block = np.asarray(affine)[:3, :3]
    return bool(np.allclose(block, np.diag(np.diag(block))))


def _as_ornt(ornt: Any, allow_nan: bool = False) -> np.ndarray:
    """Check an orientation array: (n, 2), axes a permutation, directions +-1."""
    arr = np.asarray(ornt, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise OrientationError(f"an orientation must be an (n, 2) array, not shape {arr.shape}")
    rows = arr[~np.isnan(arr).any(axis=1)] if allow_nan else arr
    if not allow_nan and np.isnan(arr).any():
        raise OrientationError(
            "the orientation has NaN rows (axes without a direction): cannot apply or invert it"
        )
    axes = rows[:, 0]
    if np.any(axes != np.round(axes)) or np.any(axes < 0):
        raise OrientationError(f"orientation axes {axes.tolist()} must be whole numbers >= 0")
    if len(set(axes.tolist())) != len(axes):
        raise OrientationError(f"orientation axes {axes.tolist()} repeat an axis")
    if not np.isin(rows[:, 1], (1, -1)).all():
        raise OrientationError(f"orientation directions {rows[:, 1].tolist()} must be 1 or -1")
    if not allow_nan and np.any(axes >= len(arr)):
        raise OrientationError(
            f"orientation axes {axes.tolist()} are not a permutation of 0..{len(arr) - 1}"
        )
    return arr


__all__ = [
    "RAS_LABELS",
    "OrientationError",
    "aff2axcodes",
    "apply_orientation",
    "as_closest_canonical",
    "axcodes2ornt",
    "inv_ornt_aff",
    "inverse_ornt",
    "io_orientation",
    "is_identity",
    "ornt2axcodes",
    "ornt_transform",
]

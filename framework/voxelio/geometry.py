"""Small affine helpers shared by the image model and format plugins."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def shape_zoom_affine(
    shape: Sequence[int], zooms: Sequence[float], flip_x: bool = True
) -> np.ndarray:
    """Affine for an array centred on the origin with the given voxel sizes.

    Parameters
    ----------
    shape : sequence of int
        Up to three spatial lengths; missing axes count as length 1.
    zooms : sequence of float
        Voxel sizes matching ``shape``; missing axes count as 1.0.
    flip_x : bool, optional
        If True (the radiological convention of formats that store no
        orientation), the first axis points to the left: its zoom is negated.

    Returns
    -------
    affine : (4, 4) ndarray
        Maps voxel indices to world coordinates so that the array centre,
        ``(shape - 1) / 2``, lands on the origin.
    """
    lengths = np.ones(3)
    sizes = np.ones(3)
    n = min(3, len(shape))
    lengths[:n] = [int(s) for s in shape[:n]]
    sizes[: min(3, len(zooms))] = [float(z) for z in zooms[:3]]
    if flip_x:
        sizes[0] *= -1
    centre = (lengths - 1) / 2.0
    affine = np.eye(4)
    affine[:3, :3] = np.diag(sizes)
    affine[:3, 3] = -centre * sizes
    return affine


def voxel_sizes(affine: np.ndarray) -> np.ndarray:
    """Lengths of the affine's three voxel axes in world units."""
    affine = np.asarray(affine, dtype=float)
    return np.sqrt(np.sum(affine[:-1, :-1] ** 2, axis=0))


def slice_affine(affine: np.ndarray, starts: Sequence[int], steps: Sequence[int]) -> np.ndarray:
    """Affine of a strided sub-array.

    Voxel ``i`` of the sub-array along an axis is voxel ``start + i * step``
    of the original one.
    """
    n = affine.shape[0] - 1
    transform = np.eye(n + 1)
    for axis in range(min(n, len(starts))):
        transform[axis, axis] = steps[axis]
        transform[axis, n] = starts[axis]
    return affine @ transform


#: how far a stored affine may be from the image's and still count as kept
#: (headers store float32: about 1e-7 relative, 1e-5 mm at 100 mm)
AFFINE_ATOL = 1e-4


def affine_losses(wanted: np.ndarray | None, stored: np.ndarray | None) -> tuple[str, ...]:
    """What of affine ``wanted`` a header that gives back ``stored`` did not keep.

    Returns () when they agree (or either is unknown), else one entry for
    a conversion report: ``'the full affine (voxel sizes kept)'`` when only
    the orientation, shears or origin went, ``'the affine'`` otherwise.
    """
    if wanted is None or stored is None:
        return ()
    wanted = np.asarray(wanted, dtype=float)
    stored = np.asarray(stored, dtype=float)
    if wanted.shape != stored.shape or np.allclose(stored, wanted, rtol=1e-6, atol=AFFINE_ATOL):
        return ()
    if np.allclose(voxel_sizes(stored), voxel_sizes(wanted), rtol=1e-6, atol=AFFINE_ATOL):
        return ("the full affine (voxel sizes kept)",)
    return ("the affine",)

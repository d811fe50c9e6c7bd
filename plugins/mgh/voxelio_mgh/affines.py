"""MGH geometry: voxel-to-RAS matrices from the header fields and back.

An MGH header stores the geometry as voxel sizes ``delta``, the direction
cosines of the three voxel axes as the rows of ``Mdc`` and the RAS
coordinates ``Pxyz_c`` of the volume centre, voxel ``dims[:3] / 2`` (not
``(dims - 1) / 2``). The arithmetic follows NiBabel 5.4's step by step
(including where it works in float32), so that both give the same numbers
for the same file.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voxelio.plugin import voxel_sizes

#: direction rows of a new header made without an affine (LSP, as NiBabel makes them)
DEFAULT_MDC = np.array([[-1, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=np.float32)

#: FreeSurfer's coronal orientation for files that record none (goodRASFlag <= 0):
#: x_r = -1, y_s = -1, z_a = 1 (LIA), as its reader sets with MRI_CORONAL
FREESURFER_CORONAL_MDC = np.array([[-1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=np.float32)


def vox2ras(
    dims: Sequence[int], delta: np.ndarray, mdc: np.ndarray, pxyz_c: np.ndarray
) -> np.ndarray:
    """Voxel (0-based) to scanner RAS affine from the header fields.

    The values are float32 numbers (the precision of the fields), returned
    in a float64 array.

    Parameters
    ----------
    dims : sequence of int
        At least the three spatial dimensions.
    delta, mdc, pxyz_c : ndarray
        The header's float32 fields (``mdc`` as stored: rows are axis directions).
    """
    # float32 throughout, as the header stores it (and as NiBabel returns
    # it); only the centre offset is summed in float64 before rounding
    scaled = np.asarray(mdc, dtype=np.float32).T * np.asarray(delta, dtype=np.float32)
    centre_offset = scaled.astype(np.float64) @ np.asarray(dims[:3], dtype=np.float64) / 2
    affine = np.eye(4)
    affine[:3, :3] = scaled
    affine[:3, 3] = (np.asarray(pxyz_c, dtype=np.float32) - centre_offset).astype(np.float32)
    return affine


def vox2ras_tkr(dims: Sequence[int], delta: np.ndarray) -> np.ndarray:
    """FreeSurfer's "tkregister" voxel-to-RAS: the same voxel sizes, LIA, centred.

    Returned as float32, as NiBabel does.
    """
    ds = np.asarray(delta, dtype=np.float32)
    half = np.asarray(dims[:3]) * ds / 2.0
    return np.array(
        [
            [-ds[0], 0, 0, half[0]],
            [0, 0, ds[2], -half[2]],
            [0, -ds[1], 0, half[1]],
            [0, 0, 0, 1],
        ],
        dtype=np.float32,
    )


def fields_from_affine(
    affine: np.ndarray, spatial_shape: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(delta, Mdc, Pxyz_c)`` that store ``affine`` for a volume of this shape.

    A degenerate axis (zero length) keeps a voxel size of 1 and a zero
    direction, so that no NaN reaches the header.
    """
    affine = np.asarray(affine, dtype=np.float64)
    sizes = voxel_sizes(affine)
    safe = np.where(sizes == 0, 1.0, sizes)
    mdc = (affine[:3, :3] / safe).T
    shape3 = [*spatial_shape, 1, 1, 1][:3]
    centre = affine @ np.hstack((np.asarray(shape3, dtype=np.float64) / 2.0, [1.0]))
    return safe, mdc, centre[:3]

"""The two NIfTI-1 transforms, qform and sform, as header methods.

:class:`XformMixin` is mixed into :class:`~voxelio_nifti1.header.Nifti1Header`:
it reads and writes the quaternion fields (``quatern_b/c/d``,
``qoffset_x/y/z``, ``pixdim[0:4]``) and the sform rows (``srow_x/y/z``)
with their codes, and chooses the best affine as the standard says:
the sform when its code is set, else the qform when its code is set, else
the Analyze-style base affine built from shape and zooms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxelio.plugin import HeaderDataError

from .codes import XFORM_CODES


def _xform_code(header: Any, field: str, code: Any, affine: Any) -> int:
    """The code to store: the given one, or the rule for ``code=None``.

    With ``code=None``: no affine means 0 (unknown); otherwise the header's
    current code, or 2 (aligned) if that is 0.
    """
    if code is not None:
        return XFORM_CODES.code(code)
    if affine is None:
        return 0
    current = int(header[field])
    return current if current != 0 else XFORM_CODES.code("aligned")


def _as_affine(affine: Any) -> np.ndarray:
    arr = np.asarray(affine, dtype=np.float64)
    if arr.shape != (4, 4):
        raise HeaderDataError(f"need a 4x4 affine, not an array of shape {arr.shape}")
    return arr


class XformMixin:
    """qform / sform access for a NIfTI-1 header (fields by name via ``self[...]``)."""

    def get_qform_quaternion(self) -> np.ndarray:
        """The qform's unit quaternion (a, b, c, d), a recovered from b, c, d."""
        from .affines import quaternion_from_bcd

        return quaternion_from_bcd(
            self["quatern_b"], self["quatern_c"], self["quatern_d"], self._quaternion_precision()
        )

    def _quaternion_precision(self) -> np.dtype:
        """The float type the quaternion fields are stored in (f4 in NIfTI-1, f8 in NIfTI-2)."""
        return np.dtype(self["quatern_b"].dtype).newbyteorder("=")

    def get_qform(self, coded: bool = False) -> Any:
        """The 4x4 affine the quaternion fields describe.

        Parameters
        ----------
        coded : bool
            If True, return ``(affine, qform_code)``, with None in place of
            the affine when the code is 0.

        Raises
        ------
        HeaderDataError
            If pixdim[1:4] has negative values or qfac (pixdim[0]) is not 1 or -1.
        """
        code = int(self["qform_code"])
        if coded and code == 0:
            return None, 0
        pixdim = self["pixdim"]
        if np.any(pixdim[1:4] < 0):
            raise HeaderDataError("pixdim[1,2,3] should be positive for a qform")
        qfac = float(pixdim[0])
        if qfac not in (1.0, -1.0):
            raise HeaderDataError(f"qfac (pixdim[0]) is {qfac}, should be 1 or -1")
        bcd = (self["quatern_b"], self["quatern_c"], self["quatern_d"])
        offsets = (self["qoffset_x"], self["qoffset_y"], self["qoffset_z"])
        from .affines import qform_affine  # here: most files are read by their sform

        affine = qform_affine(bcd, qfac, pixdim[1:4], offsets, self._quaternion_precision())
        return (affine, code) if coded else affine

    def set_qform(self, affine: Any, code: Any = None, strip_shears: bool = True) -> None:
        """Store ``affine`` in the quaternion fields (and pixdim[0:4]) with ``code``.

        Parameters
        ----------
        affine : (4, 4) array-like or None
            None only sets the code (0 unless given).
        code : int, str or None
            Transform code or label ('scanner', 'aligned'...). None keeps
            the current code, or uses 'aligned' if it is 0 (and 0 for
            ``affine=None``).
        strip_shears : bool
            The qform cannot hold shears. True stores the nearest rotation;
            False raises HeaderDataError when the affine has shears.
        """
        new_code = _xform_code(self, "qform_code", code, affine)
        self["qform_code"] = new_code
        if affine is None:
            return
        from .affines import decompose_for_qform

        quat, qfac, zooms, offsets = decompose_for_qform(_as_affine(affine), strip_shears)
        self["qoffset_x"], self["qoffset_y"], self["qoffset_z"] = offsets
        pixdim = self["pixdim"].copy()
        pixdim[0] = qfac
        pixdim[1:4] = zooms
        self["pixdim"] = pixdim
        self["quatern_b"], self["quatern_c"], self["quatern_d"] = quat[1:]

    def get_sform(self, coded: bool = False) -> Any:
        """The 4x4 affine of the sform rows (``(affine or None, code)`` if ``coded``)."""
        code = int(self["sform_code"])
        if coded and code == 0:
            return None, 0
        affine = np.eye(4)
        affine[0] = self["srow_x"]
        affine[1] = self["srow_y"]
        affine[2] = self["srow_z"]
        return (affine, code) if coded else affine

    def set_sform(self, affine: Any, code: Any = None) -> None:
        """Store ``affine`` in the sform rows with ``code`` (same code rules as set_qform)."""
        new_code = _xform_code(self, "sform_code", code, affine)
        self["sform_code"] = new_code
        if affine is None:
            return
        aff = _as_affine(affine)
        self["srow_x"] = aff[0]
        self["srow_y"] = aff[1]
        self["srow_z"] = aff[2]

    def reorient_fields(self, ornt: np.ndarray, voxel_transform: np.ndarray) -> None:
        """Move qform and sform with the voxel axes; their codes stay.

        Each stored transform ``A`` becomes ``A @ voxel_transform``, so both
        keep mapping the same voxels to the same world points.
        """
        try:
            qform = self.get_qform()
        except HeaderDataError:
            qform = None  # unusable quaternion fields: nothing to keep consistent
        if qform is not None:
            self.set_qform(qform @ voxel_transform, code=int(self["qform_code"]))
        self.set_sform(self.get_sform() @ voxel_transform, code=int(self["sform_code"]))
        super().reorient_fields(ornt, voxel_transform)  # type: ignore[misc]

    def get_best_affine(self) -> np.ndarray:
        """The sform if its code is set, else the qform if set, else the base affine."""
        if int(self["sform_code"]) != 0:
            return self.get_sform()
        if int(self["qform_code"]) != 0:
            return self.get_qform()
        return self.get_base_affine()

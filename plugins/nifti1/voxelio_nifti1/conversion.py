"""NIfTI-1 headers in conversions to and from other formats.

From another format, a NIfTI header takes what that format can say about
itself: the world its affine maps to (``get_world_space``: MGH's vox2ras is
scanner RAS, so a NIfTI copy gets qform_code = sform_code = 1, as
FreeSurfer's own converter writes) and its units, with time in seconds
(the BIDS convention: an MGH TR of 1350 ms becomes 1.35 s).

To another format, :meth:`ConversionMixin.conversion_losses` lists what the
target header cannot hold, judged by the fields and attributes it has, so
no format needs to know another by name.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from voxelio.plugin import HeaderDataError

from .codes import XFORM_CODES

#: world spaces whose loss a conversion reports (standard templates)
_TEMPLATE_SPACES = ("talairach", "mni", "template")

#: seconds per time unit NIfTI knows
_SECONDS = {"sec": 1.0, "msec": 1e-3, "usec": 1e-6}


def adopt_foreign(header: Any, other: Any) -> None:
    """Fill ``header`` (NIfTI) with what a header of another format says about its world.

    Units (time converted to seconds) and, when ``other`` names its world
    space, both transforms set to its affine with that space's code.
    """
    units = getattr(other, "get_xyzt_units", None)
    if units is not None:
        with contextlib.suppress(HeaderDataError, KeyError, TypeError, ValueError):
            space_unit, time_unit = units()
            header.set_xyzt_units(space_unit, time_unit)
            zooms = list(header.get_zooms())
            factor = _SECONDS.get(str(time_unit))
            if len(zooms) >= 4 and factor is not None and factor != 1.0:
                zooms[3] *= factor
                header.set_zooms(zooms)
                header.set_xyzt_units(space_unit, "sec")
    space = getattr(other, "get_world_space", lambda: None)()
    if space is None:
        return
    try:
        code = XFORM_CODES.code(space)
        affine = np.asarray(other.get_best_affine(), dtype=np.float64)
    except (HeaderDataError, AttributeError, TypeError, ValueError):
        return
    if affine.shape == (4, 4) and np.all(np.isfinite(affine)):
        header.set_sform(affine, code=code)
        header.set_qform(affine, code=code)


class ConversionMixin:
    """World space and conversion losses of a NIfTI header (fields by name via ``self[...]``)."""

    def get_world_space(self) -> str | None:
        """The space of the best affine: the sform's code if set, else the qform's."""
        for field in ("sform_code", "qform_code"):
            code = int(self[field])
            if code:
                with contextlib.suppress(HeaderDataError):
                    return XFORM_CODES.label(code)
                return None
        return None

    def conversion_losses(self, target: Any) -> list[str]:
        """What ``target``, a header of another format, cannot hold of this one."""
        lost: list[str] = []
        fields = set(target.keys()) if hasattr(target, "keys") else set()
        exts = self.extensions  # type: ignore[attr-defined]
        if exts and not hasattr(target, "extensions"):
            codes = ", ".join(str(e.get_code()) for e in exts)
            lost.append(f"{len(exts)} extension(s) (codes {codes})")
        if int(self["dim_info"]) and "dim_info" not in fields:
            lost.append("dim_info (frequency/phase/slice axes)")
        timing = ("slice_code", "slice_start", "slice_end", "slice_duration")
        if any(float(self[f]) for f in timing) and "slice_code" not in fields:
            lost.append("slice timing (slice_code, slice_start, slice_end, slice_duration)")
        if (int(self["intent_code"]) or bytes(self["intent_name"]).strip(b"\0")) and (
            "intent_code" not in fields
        ):
            lost.append("intent (intent_code, intent_p1-3, intent_name)")
        for name in ("descrip", "aux_file"):
            if bytes(self[name]).strip(b"\0") and name not in fields:
                lost.append(name)
        if float(self["toffset"]) and "toffset" not in fields:
            lost.append("toffset")
        lost.extend(self._space_losses(target, fields))
        return lost

    def _space_losses(self, target: Any, fields: set[str]) -> list[str]:
        if "sform_code" in fields:
            return []
        lost = []
        ours = self.get_world_space()
        theirs = getattr(target, "get_world_space", lambda: None)()
        # a target without spaces (Analyze) has nothing to disagree with; 'aligned'
        # is what any image made from an array gets, so only template spaces count
        if ours in _TEMPLATE_SPACES and theirs is not None and ours != theirs:
            lost.append(f"the {ours!r} world space of the affine (the target records {theirs!r})")
        if int(self["qform_code"]) and int(self["sform_code"]):
            with contextlib.suppress(HeaderDataError):
                if not np.allclose(self.get_qform(), self.get_sform(), atol=1e-4):
                    lost.append("the qform, which differs from the sform kept as the affine")
        return lost

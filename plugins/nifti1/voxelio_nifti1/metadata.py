"""NIfTI-1 header fields beyond geometry: units, intent, dim_info, slice timing.

:class:`MetadataMixin` is mixed into :class:`~voxelio_nifti1.header.Nifti1Header`
and works on its fields by name.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from voxelio.plugin import CodeTable, HeaderDataError

from .codes import INTENT_CODES, SLICE_ORDER_CODES, SPACE_UNITS, TIME_UNITS, UNIT_CODES


def _unit_label(code: int) -> str:
    try:
        return UNIT_CODES.label(code)
    except HeaderDataError:
        return f"unknown code {code}"


def _slice_order(code: int, n: int) -> list[int]:
    """Slice indices (0 = slice_start) in the order a slice-order code acquires them."""
    inc = list(range(n))
    if code == 1:
        return inc
    if code == 2:
        return inc[::-1]
    if code == 3:
        return inc[0::2] + inc[1::2]
    if code == 4:
        dec = inc[::-1]
        return dec[0::2] + dec[1::2]
    if code == 5:
        return inc[1::2] + inc[0::2]
    if code == 6:
        dec = inc[::-1]
        return dec[1::2] + dec[0::2]
    raise HeaderDataError(f"slice order code {code} has no defined timing")


#: slice-order code of the same acquisition seen along the reversed axis
_MIRRORED_SLICE_CODE = {1: 2, 2: 1, 3: 4, 4: 3, 5: 6, 6: 5}


def _times_for(code: int, n: int, duration: float) -> np.ndarray:
    times = np.empty(n)
    for rank, index in enumerate(_slice_order(code, n)):
        times[index] = rank * duration
    return times


def reorient_metadata(header: Any, ornt: np.ndarray) -> None:
    """Move a NIfTI header's dim_info with the voxel axes; a reversed slice axis
    reverses the slice order.

    A flipped slice axis swaps ``slice_start``/``slice_end`` around the axis
    and turns each slice-order code into its mirror (increasing <->
    decreasing), so every slice keeps its acquisition time. The header still
    describes the old axes (see ``Header.reorient_fields``).
    """
    moved = []
    slice_axis = header.get_dim_info()[2]
    for axis in header.get_dim_info():
        moved.append(None if axis is None or axis >= len(ornt) else int(ornt[axis, 0]))
    header.set_dim_info(*moved)
    if slice_axis is not None and slice_axis < len(ornt) and ornt[slice_axis, 1] < 0:
        code = int(header["slice_code"])
        if code in _MIRRORED_SLICE_CODE:
            header["slice_code"] = _MIRRORED_SLICE_CODE[code]
        shape = header.get_data_shape()
        n = int(shape[slice_axis]) if slice_axis < len(shape) else 0
        start, end = int(header["slice_start"]), int(header["slice_end"])
        if n and (start or end) and 0 <= start <= end < n:
            header["slice_start"], header["slice_end"] = n - 1 - end, n - 1 - start


class MetadataMixin:
    """Units, intent, dim_info and slice timing of a NIfTI-1 header."""

    #: the intent codes this header names (NIfTI-2 adds CIFTI-2's)
    intent_codes: ClassVar[CodeTable] = INTENT_CODES

    # -- units ------------------------------------------------------------------------
    def get_xyzt_units(self) -> tuple[str, str]:
        """Labels of the space and time units, e.g. ``('mm', 'sec')``."""
        code = int(self["xyzt_units"])
        return _unit_label(code & 0x07), _unit_label(code & 0x38)

    def set_xyzt_units(self, xyz: Any = None, t: Any = None) -> None:
        """Set the space and time units (labels or codes; None means unknown)."""
        space = 0 if xyz is None else UNIT_CODES.code(xyz)
        time = 0 if t is None else UNIT_CODES.code(t)
        if space not in SPACE_UNITS:
            raise HeaderDataError(f"{xyz!r} is not a unit of space (meter, mm, micron)")
        if time not in TIME_UNITS:
            raise HeaderDataError(f"{t!r} is not a unit of time or frequency")
        self["xyzt_units"] = space | time

    # -- dim_info ---------------------------------------------------------------------
    def get_dim_info(self) -> tuple[int | None, int | None, int | None]:
        """The (frequency, phase, slice) encoding axes, each 0-2 or None if unset."""
        info = int(self["dim_info"])
        return tuple(  # type: ignore[return-value]
            None if (v := (info >> shift) & 3) == 0 else v - 1 for shift in (0, 2, 4)
        )

    def set_dim_info(self, freq: int | None = None, phase: int | None = None,
                     slice: int | None = None) -> None:
        """Set the frequency, phase and slice encoding axes (0, 1, 2 or None)."""
        values = (freq, phase, slice)
        for name, value in zip(("freq", "phase", "slice"), values, strict=True):
            if value not in (None, 0, 1, 2):
                raise HeaderDataError(f"{name} axis must be None, 0, 1 or 2, not {value!r}")
        if len({v for v in values if v is not None}) < sum(v is not None for v in values):
            raise HeaderDataError(f"freq, phase and slice axes {values} must differ")
        info = 0
        for shift, value in zip((0, 2, 4), values, strict=True):
            if value is not None:
                info |= (value + 1) << shift
        self["dim_info"] = info

    def reorient_fields(self, ornt: np.ndarray, voxel_transform: np.ndarray) -> None:
        """dim_info follows the axes; a reversed slice axis reverses the slice order.

        See :func:`reorient_metadata`.
        """
        reorient_metadata(self, ornt)
        super().reorient_fields(ornt, voxel_transform)  # type: ignore[misc]

    # -- intent -----------------------------------------------------------------------
    def get_intent(self, code_repr: str = "label") -> tuple[Any, tuple[float, ...], str]:
        """The intent: (label or code, its parameters, intent_name).

        An unknown intent code gives the label ``'unknown code N'`` and no
        parameters (how many it has is unknown; the ``intent_p*`` fields
        still hold them).
        """
        if code_repr not in ("label", "code"):
            raise TypeError(f"code_repr must be 'label' or 'code', not {code_repr!r}")
        code = int(self["intent_code"])
        all_params = tuple(float(self[f"intent_p{i}"]) for i in (1, 2, 3))
        name = self["intent_name"].item().decode("latin-1")
        try:
            entry = self.intent_codes.lookup(code)
        except HeaderDataError:
            label = code if code_repr == "code" else f"unknown code {code}"
            return label, (), name
        shown = entry.code if code_repr == "code" else entry.label
        return shown, all_params[: len(entry.value)], name

    def set_intent(self, code: Any, params: Sequence[float] = (), name: str = "",
                   allow_unknown: bool = False) -> None:
        """Set the intent code, its parameters and its name.

        Parameters
        ----------
        code : int or str
            Intent code or label ('t test', 'label', ...).
        params : sequence of float
            As many parameters as the intent takes (missing ones are 0 when
            ``params`` is empty).
        name : str
            intent_name, at most 16 bytes.
        allow_unknown : bool
            Accept an integer code missing from the standard's table.
        """
        try:
            entry = self.intent_codes.lookup(code)
            number, wanted = entry.code, len(entry.value)
        except HeaderDataError:
            if not (allow_unknown and isinstance(code, (int, np.integer))):
                raise
            number, wanted = int(code), 3
        params = tuple(float(p) for p in params)
        if params and len(params) != wanted:
            raise HeaderDataError(
                f"intent {code!r} takes {wanted} parameters, got {len(params)}"
            )
        encoded = name.encode("latin-1")
        if len(encoded) > 16:
            raise HeaderDataError(f"intent_name {name!r} is longer than 16 bytes")
        self["intent_code"] = number
        full = (*params, 0.0, 0.0, 0.0)[:3]
        for i, value in enumerate(full, start=1):
            self[f"intent_p{i}"] = value
        self["intent_name"] = encoded

    # -- slice timing ---------------------------------------------------------------------
    def _slice_axis(self) -> int:
        axis = self.get_dim_info()[2]
        if axis is None:
            raise HeaderDataError(
                "slice axis is not set in dim_info: call set_dim_info(slice=...)"
            )
        return axis

    def get_n_slices(self) -> int:
        """Number of slices along the slice axis (needs dim_info's slice axis)."""
        axis = self._slice_axis()
        shape = self.get_data_shape()
        if axis >= len(shape):
            raise HeaderDataError(f"slice axis {axis} is beyond the data shape {shape}")
        return int(shape[axis])

    def get_slice_duration(self) -> float:
        """Time to acquire one slice (needs dim_info's slice axis)."""
        self._slice_axis()
        return float(self["slice_duration"])

    def set_slice_duration(self, duration: float) -> None:
        """Set the time to acquire one slice (needs dim_info's slice axis)."""
        self._slice_axis()
        self["slice_duration"] = duration

    def get_slice_times(self) -> list[float | None]:
        """Acquisition time of each slice, None for slices outside slice_start..slice_end."""
        n = self.get_n_slices()
        duration = self.get_slice_duration()
        code = int(self["slice_code"])
        if code == 0:
            raise HeaderDataError("slice_code is 0 (unknown): slice times are not defined")
        start = int(self["slice_start"])
        end = int(self["slice_end"]) or n - 1
        if not 0 <= start <= end < n:
            raise HeaderDataError(f"slice_start {start} / slice_end {end} do not fit {n} slices")
        times: list[float | None] = [None] * n
        for offset, t in enumerate(_times_for(code, end - start + 1, duration)):
            times[start + offset] = float(t)
        return times

    def set_slice_times(self, slice_times: Sequence[float | None]) -> None:
        """Set slice_code, slice_start, slice_end and slice_duration from per-slice times.

        ``slice_times`` has one entry per slice; None marks slices before
        slice_start or after slice_end. The times must follow one of the
        standard's slice orders with a constant step.
        """
        n = self.get_n_slices()
        times = list(slice_times)
        if len(times) != n:
            raise HeaderDataError(f"expected {n} slice times, got {len(times)}")
        known = [i for i, t in enumerate(times) if t is not None]
        if not known:
            raise HeaderDataError("slice times are all None")
        start, end = known[0], known[-1]
        inner = times[start : end + 1]
        if any(t is None for t in inner):
            raise HeaderDataError("None is allowed only before the first and after the last slice")
        values = np.asarray(inner, dtype=float)
        count = len(values)
        steps = np.diff(np.sort(values))
        duration = float(steps.mean()) if count > 1 else 0.0
        matches = [
            entry
            for entry in SLICE_ORDER_CODES
            if entry.code != 0
            and np.allclose(values - values.min(), _times_for(entry.code, count, duration))
        ]
        if not matches:
            raise HeaderDataError("slice times do not match any NIfTI-1 slice order")
        entry = matches[0]
        if len(matches) > 1:
            warnings.warn(
                f"slice times {list(inner)} fit several slice orders "
                f"({', '.join(m.label for m in matches)}); using {entry.label!r}",
                UserWarning,
                stacklevel=2,
            )
        self["slice_code"] = entry.code
        self["slice_start"] = start
        self["slice_end"] = end
        self.set_slice_duration(duration)

"""Diagnostics specific to NIfTI headers: what is wrong, how bad, how it was fixed.

Each check is ``check(header, fix) -> Report | None`` (see
:mod:`voxelio.structheader`). They run when a header is read from bytes
(``load_reports`` keeps what they found and fixed), on ``hdr.check()`` and
in ``voxelio check FILE``. Levels follow the standard's severity: a header
whose data cannot be located or typed is an ERROR (loading fails); a field
a reader can work around is fixed and reported. The checks NIfTI-1 shares
with Analyze (sizeof_hdr, datatype, bitpix, pixdim) come from voxelio_analyze.
The magic strings and minimum data offset come from the header class, so the
same checks serve NIfTI-2 headers (voxelio-nifti2).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from voxelio.plugin import ERROR, MODERATE, WARNING, HeaderDataError, Report

from .codes import XFORM_CODES

#: the largest byte count (and file offset) numpy and the OS can address
_MAX_BYTES = 2**63 - 1


def check_dim(hdr: Any, fix: bool) -> Report | None:
    """dim[0] must be 0-7, the lengths it covers non-negative, their product addressable."""
    # Python integers: exact (a numpy product of int64 dims, NIfTI-2, could wrap
    # around), and cheaper than numpy on eight numbers (this runs at every load)
    dim = hdr["dim"].tolist()
    ndim = dim[0]
    if not 0 <= ndim <= 7:
        return Report(ERROR, f"dim[0] is {ndim}: the number of dimensions must be 0 to 7")
    lengths = dim[1 : ndim + 1]
    if min(lengths, default=0) < 0 and not (ndim >= 3 and dim[1:4] == [-1, 1, 1]):
        return Report(ERROR, f"dim {lengths} has a negative length")
    nbytes = math.prod(abs(n) for n in lengths) * _itemsize(hdr)
    if nbytes > _MAX_BYTES:
        return Report(
            ERROR, f"dim {lengths} describes {nbytes} bytes of data, more than a file can hold"
        )
    return None


def _itemsize(hdr: Any) -> int:
    try:
        return type(hdr).data_types.dtype(int(hdr["datatype"])).itemsize
    except HeaderDataError:
        return 1


def check_qfac(hdr: Any, fix: bool) -> Report | None:
    """pixdim[0] (qfac) should be 1 or -1."""
    qfac = float(hdr["pixdim"][0])
    if qfac in (1.0, -1.0):
        return None
    report = Report(WARNING, f"pixdim[0] (qfac) should be 1 (default) or -1, not {qfac}")
    if fix:
        new = hdr["pixdim"].copy()
        new[0] = 1
        hdr["pixdim"] = new
        report.fix_msg = "setting qfac to 1"
    return report


def check_magic(hdr: Any, fix: bool) -> Report | None:
    """magic must be the header class's single-file or pair magic ('n+1' or 'ni1')."""
    magic = hdr["magic"].item()
    valid = (type(hdr).single_magic, type(hdr).pair_magic)
    if magic in valid:
        return None
    names = " or ".join(m.decode() for m in valid)
    return Report(45, f"magic string {magic.decode('latin-1')!r} is not valid ({names})")


def check_offset(hdr: Any, fix: bool) -> Report | None:
    """vox_offset must leave room for a single file's header; SPM wants a multiple of 16."""
    offset = float(hdr["vox_offset"])
    single = hdr["magic"].item() == type(hdr).single_magic
    minimum = type(hdr).single_vox_offset()
    if not np.isfinite(offset) or offset < 0:
        report = Report(ERROR, f"vox offset {offset} is not a byte position")
        if fix and single:
            # as below: the data can only start after the header, so the
            # mended header is usable (an error-level report would refuse it)
            hdr["vox_offset"] = minimum
            report.fix_msg = f"setting to minimum value of {minimum}"
            report.problem_level = MODERATE
        return report
    if single and offset == 0:
        # 0 is "not set" (what an image's header shows once the data offset
        # is consumed); a single file's data then start after the extensions
        return None
    if single and offset < minimum:
        kind = type(hdr).format_label.lower().replace("-", "")
        report = Report(ERROR, f"vox offset {offset:g} too low for single file {kind}")
        if fix:
            # the data cannot overlap the header: reading them from the end of
            # the header is the only sensible reading, so the file loads (with
            # this report)
            hdr["vox_offset"] = minimum
            report.fix_msg = f"setting to minimum value of {minimum}"
            report.problem_level = MODERATE
        return report
    if offset != int(offset):
        return Report(WARNING, f"vox offset {offset} is not a whole number of bytes")
    if int(offset) % 16:
        return Report(
            MODERATE, f"vox offset (={offset:g}) not divisible by 16, not SPM compatible"
        )
    return None


def check_scl_inter(hdr: Any, fix: bool) -> Report | None:
    """A valid ``scl_slope`` needs a finite ``scl_inter``; reading takes 0 for one that is not."""
    slope, inter = float(hdr["scl_slope"]), float(hdr["scl_inter"])
    if slope == 0 or not np.isfinite(slope) or np.isfinite(inter):
        return None  # no scaling (the intercept is unused), or a usable intercept
    # the values come back as slope * stored + 0: off by whatever the writer
    # meant to add, which nothing in the file tells
    report = Report(
        MODERATE, f"scl_inter is {inter} but scl_slope {slope:g} scales the data (the "
        "intercept must be finite)"
    )
    if fix:
        hdr["scl_inter"] = 0.0
        report.fix_msg = "reading the values with intercept 0"
    return report


def _check_code(field: str):
    def check(hdr: Any, fix: bool) -> Report | None:
        code = int(hdr[field])
        if code in XFORM_CODES.codes():
            return None
        report = Report(MODERATE, f"{field} {code} not valid")
        if fix:
            hdr[field] = 0
            report.fix_msg = f"setting {field} to 0"
        return report

    check.__name__ = f"check_{field}"
    check.__doc__ = f"{field} must be one of the standard's transform codes (0-5)."
    return check


check_qform_code = _check_code("qform_code")
check_sform_code = _check_code("sform_code")


#: the checks NIfTI-1 adds to the Analyze ones it shares
NIFTI_CHECKS = (
    check_dim, check_qfac, check_magic, check_offset, check_scl_inter, check_qform_code,
    check_sform_code,
)

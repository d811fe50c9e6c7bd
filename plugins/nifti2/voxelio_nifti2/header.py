"""The NIfTI-2 header: NIfTI-1's fields, widened to 540 bytes.

NIfTI-2 keeps every NIfTI-1 field that means something, with 64-bit
integers for ``dim``, ``vox_offset``, ``slice_start`` and ``slice_end`` and
64-bit floats for ``pixdim``, the transforms, scaling and intent
parameters, in a new order (see :mod:`._layout`). Analyze's leftover fields
(``data_type``, ``db_name``, ``glmax``...) are gone; an ``eol_check`` after
the magic detects text-mode copies.

:class:`Nifti2Header` is :class:`voxelio_nifti1.header.Nifti1Header` with
this layout: qform/sform, scaling, units, intent, dim_info, slice timing,
extensions and the checks all come from voxelio-nifti1. What differs is
stated here: the layout, the magic strings, the CIFTI-2 intent codes, no
FreeSurfer long-vector encoding (lengths up to 2**63 - 1 fit), the
``eol_check`` check, and the refusal of NIfTI-1 blocks.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from voxelio.plugin import ERROR, MODERATE, Code, CodeTable, ImageFileError, Report
from voxelio_nifti1.codes import INTENT_CODES as NIFTI1_INTENT_CODES
from voxelio_nifti1.header import Nifti1Header

from . import _layout as layout

header_dtype = np.dtype([(name, code, shape) for name, code, shape in layout.FIELDS])
assert header_dtype.itemsize == layout.HEADER_SIZE

#: NIfTI-1's intent codes plus those CIFTI-2 reserves
INTENT_CODES = CodeTable(
    "NIfTI-2 intent code",
    [
        *NIFTI1_INTENT_CODES,
        *(Code(code, label, (), (macro,)) for code, label, macro in layout.CIFTI_INTENT_TABLE),
    ],
)


def check_eol(hdr: Any, fix: bool) -> Report | None:
    """eol_check must be CR LF SUB LF (or all zero, as some writers leave it)."""
    found = tuple(int(b) for b in hdr["eol_check"])
    if found in (layout.EOL_CHECK, (0, 0, 0, 0)):
        return None
    shown = " ".join(f"{b & 0xFF:02X}" for b in found)
    report = Report(
        ERROR,
        f"eol_check bytes are {shown}, not 0D 0A 1A 0A: the file has probably been "
        "copied in text mode, which also alters the data",
    )
    if fix:
        hdr["eol_check"] = layout.EOL_CHECK
        report.fix_msg = "setting eol_check to 0D 0A 1A 0A"
        # the mended header loads (with this report kept): an error-level
        # report would make check_fix refuse it
        report.problem_level = MODERATE
    return report


class Nifti2Header(Nifti1Header):
    """Header of a single-file NIfTI-2 image (``.nii``, magic ``n+2``).

    Parameters and attributes are those of
    :class:`voxelio_nifti1.header.Nifti1Header`.
    """

    template_dtype: ClassVar[np.dtype] = header_dtype
    header_size: ClassVar[int] = layout.HEADER_SIZE
    format_label: ClassVar[str] = "NIfTI-2"
    encodes_long_vectors: ClassVar[bool] = False
    larger_format_hint: ClassVar[str] = "no NIfTI layout holds it"
    intent_codes: ClassVar[CodeTable] = INTENT_CODES
    magic: ClassVar[bytes] = layout.SINGLE_MAGIC
    single_magic: ClassVar[bytes] = layout.SINGLE_MAGIC
    pair_magic: ClassVar[bytes] = layout.PAIR_MAGIC
    defaults: ClassVar[dict[str, Any]] = {
        "sizeof_hdr": layout.HEADER_SIZE,
        "magic": layout.SINGLE_MAGIC,
        "eol_check": layout.EOL_CHECK,
        "dim": [0, 1, 1, 1, 1, 1, 1, 1],
        "pixdim": [1.0] * 8,
        "datatype": 16,
        "bitpix": 32,
        "scl_slope": 1.0,
    }
    checks = (*Nifti1Header.checks, check_eol)

    def get_data_offset(self) -> int:
        """Byte offset of the data (an int64 field: no float rounding).

        As for NIfTI-1, a set ``vox_offset`` is the truth (extension records
        of odd sizes do not move the data); 0 in a single file means right
        after header and extensions.
        """
        offset = int(self["vox_offset"])
        if self.is_single and offset == 0:
            return self.minimum_data_offset()
        return max(offset, 0)

    def is_cifti(self) -> bool:
        """True for a CIFTI-2 container: a CIFTI intent code and a CIFTI extension."""
        return int(self["intent_code"]) in layout.CIFTI_INTENTS and bool(
            self.extensions.count(layout.CIFTI_EXTENSION_CODE)
        )

    @classmethod
    def _refuse_other_version(cls, block: bytes) -> None:
        """Raise ImageFileError naming NIfTI-1 for a NIfTI-1 block (348 bytes, n+1/ni1)."""
        end = layout.NIFTI1_MAGIC_OFFSET + 4
        if len(block) < end or block[layout.NIFTI1_MAGIC_OFFSET : end] not in layout.NIFTI1_MAGICS:
            return
        size = layout.NIFTI1_HEADER_SIZE
        if size in (int.from_bytes(block[:4], "little"), int.from_bytes(block[:4], "big")):
            raise ImageFileError(
                "this is a NIfTI-1 file (348-byte header, magic "
                f"{block[layout.NIFTI1_MAGIC_OFFSET : end - 1].decode()!r}), not NIfTI-2: load it "
                "with voxelio.load or Nifti1Image (voxelio-nifti1)"
            )


class Nifti2PairHeader(Nifti2Header):
    """Header of a NIfTI-2 pair (``.hdr`` + ``.img``, magic ``ni2``)."""

    is_single: ClassVar[bool] = False
    magic: ClassVar[bytes] = layout.PAIR_MAGIC
    defaults: ClassVar[dict[str, Any]] = {**Nifti2Header.defaults, "magic": layout.PAIR_MAGIC}

"""The sniffer of Analyze 7.5 headers.

A module of its own so that loading a file imports the sniffer and not the
entry module with its format declaration.
"""

from __future__ import annotations

from voxelio.plugin import NO, WEAK, YES, SniffResult

from ._layout import (
    DIM_OFFSET,
    HEADER_SIZE,
    MAGIC_OFFSET,
    MAX_NDIM,
    NIFTI1_PAIR_MAGIC,
    NIFTI1_SINGLE_MAGIC,
)

_NIFTI1_MAGICS = {NIFTI1_PAIR_MAGIC: "NIfTI-1 pair", NIFTI1_SINGLE_MAGIC: "single-file NIfTI-1"}
_ORDERS = (("<", "little"), (">", "big"))


def _int(data: bytes, order: str) -> int:
    return int.from_bytes(data, "little" if order == "<" else "big", signed=True)


def sniff(prefix: bytes, filespec: str | None) -> SniffResult:
    """Judge a header file's leading bytes.

    'yes' for ``sizeof_hdr`` = 348 in either byte order with a plausible
    ``dim[0]`` and no NIfTI magic; 'no' for any other ``sizeof_hdr`` (NIfTI-2
    stores 540) or a NIfTI-1 magic; 'weak' for a truncated or odd header.
    """
    if len(prefix) < 4:
        return SniffResult(NO, f"only {len(prefix)} bytes: too short for sizeof_hdr")
    order = next((o for o, _ in _ORDERS if _int(prefix[:4], o) == HEADER_SIZE), None)
    if order is None:
        found = _int(prefix[:4], "<")
        return SniffResult(NO, f"sizeof_hdr is {found}, not {HEADER_SIZE}, in either byte order")
    name = dict(_ORDERS)[order]
    magic = prefix[MAGIC_OFFSET : MAGIC_OFFSET + 4]
    if magic in _NIFTI1_MAGICS:
        kind = _NIFTI1_MAGICS[magic]
        where = f"at byte {MAGIC_OFFSET}"
        return SniffResult(NO, f"{kind} magic {magic!r} {where}: not plain Analyze")
    if len(prefix) < HEADER_SIZE:
        return SniffResult(
            WEAK, f"sizeof_hdr {HEADER_SIZE} ({name}-endian) but the header is truncated"
        )
    dim0 = _int(prefix[DIM_OFFSET : DIM_OFFSET + 2], order)
    if not 0 <= dim0 <= MAX_NDIM:
        return SniffResult(WEAK, f"sizeof_hdr {HEADER_SIZE} ({name}-endian) but dim[0] = {dim0}")
    evidence = f"sizeof_hdr {HEADER_SIZE}, {name}-endian, {dim0}-d, no NIfTI magic"
    return SniffResult(YES, evidence, strength=4)

"""The sniffers of the NIfTI-1 formats (single file and pair).

A module of its own so that loading a file imports the sniffer and not the
entry module with its format declarations. Both sniffers refuse NIfTI-2
and CIFTI-2 files, which share the ``.nii`` extension, saying what the
file is.
"""

from __future__ import annotations

from voxelio.plugin import NO, WEAK, YES, SniffResult

from ._layout import (
    CIFTI_INTENTS,
    HEADER_SIZE,
    MAGIC_OFFSET,
    NIFTI1_PAIR_MAGIC,
    NIFTI1_SINGLE_MAGIC,
    NIFTI2_HEADER_SIZE,
    NIFTI2_INTENT_OFFSET,
    NIFTI2_MAGICS,
)


def _int32(data: bytes, order: str) -> int:
    return int.from_bytes(data[:4], "little" if order == "<" else "big", signed=True)


def _nifti2_verdict(prefix: bytes) -> SniffResult | None:
    """A refusal naming NIfTI-2 or CIFTI-2, or None if the bytes are not NIfTI-2."""
    if len(prefix) < 8 or prefix[4:8] not in NIFTI2_MAGICS:
        return None
    for order in "<>":
        if _int32(prefix, order) == NIFTI2_HEADER_SIZE:
            break
    else:
        return None
    intent = prefix[NIFTI2_INTENT_OFFSET : NIFTI2_INTENT_OFFSET + 4]
    if len(intent) == 4 and _int32(intent, order) in CIFTI_INTENTS:
        what = f"a CIFTI-2 file (NIfTI-2 header with CIFTI intent code {_int32(intent, order)})"
    else:
        what = f"a NIfTI-2 file ({NIFTI2_HEADER_SIZE}-byte header, magic {prefix[4:7].decode()!r})"
    return SniffResult(
        NO,
        f"this is {what}, not NIfTI-1; voxelio-nifti1 reads NIfTI-1 only "
        "(a NIfTI-2/CIFTI-2 plugin is needed)",
    )


def _nifti1_fields(prefix: bytes) -> tuple[str | None, bytes, str]:
    """(byte order or None, magic, what is wrong) of a would-be NIfTI-1 header."""
    if len(prefix) < HEADER_SIZE:
        return None, b"", f"only {len(prefix)} bytes; a NIfTI-1 header needs {HEADER_SIZE}"
    order = next((o for o in "<>" if _int32(prefix, o) == HEADER_SIZE), None)
    magic = prefix[MAGIC_OFFSET : MAGIC_OFFSET + 4]
    if order is None:
        return None, magic, f"sizeof_hdr is {_int32(prefix, '<')}, not {HEADER_SIZE}"
    return order, magic, ""


def _sniff(prefix: bytes, want: bytes, other: bytes, kind: str) -> SniffResult:
    refusal = _nifti2_verdict(prefix)
    if refusal is not None:
        return refusal
    order, magic, problem = _nifti1_fields(prefix)
    if problem:
        return SniffResult(NO, problem)
    endian = "little" if order == "<" else "big"
    if magic == want:
        return SniffResult(YES, f"{endian}-endian NIfTI-1 {kind} (magic {want[:3]!r})", 8)
    if magic == other:
        return SniffResult(
            WEAK, f"{endian}-endian NIfTI-1 header with magic {other[:3]!r}, not {want[:3]!r}", 4
        )
    return SniffResult(
        NO, f"sizeof_hdr is {HEADER_SIZE} but magic is {magic!r}, not {want[:3]!r}"
    )


def sniff_single(prefix: bytes, filespec: str | None) -> SniffResult:
    """Content verdict for a single-file NIfTI-1 image (``.nii``)."""
    return _sniff(prefix, NIFTI1_SINGLE_MAGIC, NIFTI1_PAIR_MAGIC, "single file")


def sniff_pair(prefix: bytes, filespec: str | None) -> SniffResult:
    """Content verdict for the header of a NIfTI-1 pair (``.hdr``)."""
    return _sniff(prefix, NIFTI1_PAIR_MAGIC, NIFTI1_SINGLE_MAGIC, "pair header")

"""The sniffers of the NIfTI-2 formats (single file, CIFTI-2 included, and pair).

A module of its own so that loading a file imports the sniffer and not the
entry module with its format declarations.
"""

from __future__ import annotations

from voxelio.plugin import NO, WEAK, YES, SniffResult

from . import _layout as layout

_EOL = bytes(layout.EOL_CHECK)


def _int32(data: bytes, order: str) -> int:
    return int.from_bytes(data[:4], "little" if order == "<" else "big", signed=True)


def _nifti1_refusal(prefix: bytes) -> SniffResult | None:
    """'no' naming NIfTI-1 for a 348-byte header with a NIfTI-1 magic, else None."""
    magic = prefix[layout.NIFTI1_MAGIC_OFFSET : layout.NIFTI1_MAGIC_OFFSET + 4]
    if magic not in layout.NIFTI1_MAGICS:
        return None
    if layout.NIFTI1_HEADER_SIZE not in (_int32(prefix, "<"), _int32(prefix, ">")):
        return None
    return SniffResult(NO, f"a NIfTI-1 header (sizeof_hdr 348, magic {magic[:3]!r})")


def _what(prefix: bytes, order: str) -> str:
    """'CIFTI-2 container (intent N)' or 'NIfTI-2', for the evidence."""
    intent = prefix[layout.INTENT_CODE_OFFSET : layout.INTENT_CODE_OFFSET + 4]
    if len(intent) == 4 and _int32(intent, order) in layout.CIFTI_INTENTS:
        return f"CIFTI-2 container (NIfTI-2, intent code {_int32(intent, order)})"
    return "NIfTI-2"


def _sniff(prefix: bytes, want: bytes, other: bytes, kind: str) -> SniffResult:
    if len(prefix) < 8:
        return SniffResult(NO, f"only {len(prefix)} bytes: too short for a NIfTI-2 header")
    refusal = _nifti1_refusal(prefix)
    if refusal is not None:
        return refusal
    size = layout.HEADER_SIZE
    order = next((o for o in "<>" if _int32(prefix, o) == size), None)
    if order is None:
        return SniffResult(NO, f"sizeof_hdr is {_int32(prefix, '<')}, not {size}")
    magic = prefix[layout.MAGIC_OFFSET : layout.MAGIC_OFFSET + 4]
    endian = "little" if order == "<" else "big"
    eol = prefix[8:12] == _EOL
    what = _what(prefix, order)
    if magic == want:
        evidence = f"{endian}-endian {what} {kind} (magic {want[:3]!r})"
        return SniffResult(YES, evidence, 8 if eol else 4)
    if magic == other:
        return SniffResult(
            WEAK, f"{endian}-endian {what} header with magic {other[:3]!r}, not {want[:3]!r}", 4
        )
    return SniffResult(NO, f"sizeof_hdr is {size} but magic is {magic!r}, not {want[:3]!r}")


def sniff_single(prefix: bytes, filespec: str | None) -> SniffResult:
    """Content verdict for a single-file NIfTI-2 image (``.nii``, CIFTI-2 included)."""
    return _sniff(prefix, layout.SINGLE_MAGIC_ON_DISK, layout.PAIR_MAGIC_ON_DISK, "single file")


def sniff_pair(prefix: bytes, filespec: str | None) -> SniffResult:
    """Content verdict for the header of a NIfTI-2 pair (``.hdr``)."""
    return _sniff(prefix, layout.PAIR_MAGIC_ON_DISK, layout.SINGLE_MAGIC_ON_DISK, "pair header")

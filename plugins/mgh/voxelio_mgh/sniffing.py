"""The sniffer of MGH/MGZ headers (gated by the file name: MGH has no magic).

A module of its own so that loading a file imports the sniffer and not the
entry module with its format declaration.
"""

from __future__ import annotations

import struct

from voxelio.plugin import NO, WEAK, SniffResult

from ._layout import HEADER_SIZE, READABLE_TYPES, SNIFF_BYTES, VALID_EXTS, VERSION


def sniff(prefix: bytes, filespec: str | None) -> SniffResult | None:
    """Judge the first 24 bytes of a file named ``*.mgh`` / ``*.mgz``."""
    if filespec is None or not str(filespec).lower().endswith(VALID_EXTS):
        return None
    if len(prefix) < SNIFF_BYTES:
        return SniffResult(NO, f"only {len(prefix)} bytes: an MGH header needs {HEADER_SIZE}")
    version, *dims, code = struct.unpack(">6i", prefix[:SNIFF_BYTES])
    if version != VERSION:
        return SniffResult(NO, f"MGH version field is {version}, not {VERSION}")
    if any(d <= 0 for d in dims):
        return SniffResult(NO, f"MGH dimensions {dims} are not all positive")
    if code not in READABLE_TYPES:
        return SniffResult(NO, f"MGH data type code {code} is not one voxelio reads")
    shape = "x".join(str(d) for d in dims)
    return SniffResult(WEAK, f"MGH version 1, {shape} {READABLE_TYPES[code]}", strength=1)

"""Tiny runtime formats for dispatch tests: no real image data, just names.

A tiny image records which format read it. A reader fails (ImageFileError)
when the file contains ``FAIL-<format name>``, to exercise fall-back.
"""

from __future__ import annotations

from typing import Any

from voxelio.errors import ImageFileError
from voxelio.openfiles import reading
from voxelio.registry import FormatSpec


class TinyImage:
    """What a tiny format's reader returns."""

    fmt = "tiny"

    def __init__(self, path: str) -> None:
        self.path = path
        self.header = None
        self.format_name: str | None = None

    @classmethod
    def _read(cls, holder: Any) -> TinyImage:
        with reading(holder) as stream:
            data = stream.read()
        if b"FAIL-" + cls.fmt.encode() in data:
            raise ImageFileError(f"{cls.fmt} reader refuses this file")
        return cls(holder.filename)

    @classmethod
    def from_filename(cls, filename: str, **kwargs: Any) -> TinyImage:
        from voxelio.filemaps import FileHolder

        return cls._read(FileHolder(filename))

    @classmethod
    def from_file_map(cls, file_map: dict, **kwargs: Any) -> TinyImage:
        return cls._read(next(iter(file_map.values())))


def tiny(name: str, **fields: Any) -> FormatSpec:
    """A spec whose image class is a fresh TinyImage subclass."""
    klass = type(f"Tiny_{name.replace('-', '_')}", (TinyImage,), {"fmt": name})
    return FormatSpec(name=name, image_class=klass, **fields)


def pair_sniff(prefix: bytes, filespec: str | None) -> str:
    """Weak unless the pair header says version 2."""
    return "yes" if prefix[4:5] == b"2" else "weak"


def snf_sniff(prefix: bytes, filespec: str | None) -> Any:
    """'S?' is weak evidence, 'S!' proof, anything else no."""
    if prefix[:2] == b"S!":
        return ("yes", "S! marker", 2)
    if prefix[:2] == b"S?":
        return ("weak", "S? marker")
    return "no"


TINY_FORMATS = (
    tiny("alpha", extensions=(".alp",), magic=[(0, b"ALPHA")]),
    tiny("gamma", extensions=(".alp",)),
    tiny("delta", extensions=(".dlt",), magic=[(0, b"ALPH")]),
    tiny("pair", extensions=(".pim", ".phd"),
         files_types=(("image", ".pim"), ("header", ".phd")), magic=[(0, b"PAIR")]),
    tiny("pair2", extensions=(".pim", ".phd"),
         files_types=(("image", ".pim"), ("header", ".phd")), magic=[(0, b"PAIR")],
         sniff=pair_sniff, sniff_bytes=8, supersedes=("pair",)),
    tiny("sniffy", extensions=(".snf",), sniff=snf_sniff, sniff_bytes=2),
    tiny("prio-a", extensions=(".pri",), priority=1),
    tiny("prio-b", extensions=(".pri",)),
    tiny("tie-b", extensions=(".tie",)),
    tiny("tie-a", extensions=(".tie",)),
    tiny("long", extensions=(".b.c",)),
    tiny("short", extensions=(".c",)),
    tiny("readonly", extensions=(".ro",), can_write=False, magic=[(0, b"RO")]),
)

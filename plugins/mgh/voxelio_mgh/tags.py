"""FreeSurfer's tagged records after the MGH footer.

FreeSurfer appends optional records after the 20-byte scan-parameter
footer: command lines, the talairach transform file name, the
phase-encode direction, per-frame information and more. Layout, as
FreeSurfer's ``utils/tags.cpp`` (``znzTAGreadStart``) reads it, all
big-endian:

* ``int32`` tag id, ``int64`` payload length, payload bytes: every tag but
  the ones below;
* ids 1, 2, 10, 11, 12 and 20 (old colour table, old "use real RAS", the
  GCA-morph geometry/type/labels, old surface geometry) carry no length:
  only the code that knows the payload's own structure can find its end;
* id 30 (old transform file name) has an ``int32`` length whose relation
  to the payload is ambiguous in FreeSurfer's own code;
* id 0 or the end of the file ends the list.

voxelio parses the records it can delimit with certainty and keeps
everything from the first record it cannot (a length-less tag, a tag
whose length runs past the end of the file, trailing bytes) as an opaque
``tail``. Records and tail are written back as they were read, so a
load/save round trip is byte-exact, whatever the tags hold.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from voxelio.plugin import MetadataBudget, limits, read_upto

#: tag id -> FreeSurfer name (``include/tags.h``)
TAG_NAMES: dict[int, str] = {
    1: "OLD_COLORTABLE",
    2: "OLD_USEREALRAS",
    3: "CMDLINE",
    4: "USEREALRAS",
    5: "COLORTABLE",
    10: "GCAMORPH_GEOM",
    11: "GCAMORPH_TYPE",
    12: "GCAMORPH_LABELS",
    13: "GCAMORPH_META",
    14: "GCAMORPH_AFFINE",
    20: "OLD_SURF_GEOM",
    21: "SURF_GEOM",
    22: "SURF_DATASPACE",
    23: "SURF_MATRIXDATA",
    24: "SURF_TRANSFORMEDSPACE",
    30: "OLD_MGH_XFORM",
    31: "MGH_XFORM",
    32: "GROUP_AVG_SURFACE_AREA",
    33: "AUTO_ALIGN",
    40: "SCALAR_DOUBLE",
    41: "PEDIR",
    42: "MRI_FRAME",
    43: "FIELDSTRENGTH",
    44: "ORIG_RAS2VOX",
}
_IDS_BY_NAME = {name: code for code, name in TAG_NAMES.items()}

#: ids written without a length field (payload end known only to its parser)
LENGTHLESS_TAGS = frozenset({1, 2, 10, 11, 12, 20})
#: ids whose length field is not the int64 of the common layout
ODD_LENGTH_TAGS = frozenset({30})
#: ids whose payload is text (FreeSurfer writes it with or without a final NUL)
TEXT_TAGS = frozenset({3, 22, 24, 31, 33, 41})

_RECORD_HEAD = struct.Struct(">iq")


def tag_code(key: int | str) -> int:
    """The integer id of a tag given by id or FreeSurfer name ('PEDIR', 'TAG_PEDIR')."""
    if isinstance(key, str):
        name = key.upper().removeprefix("TAG_")
        if name not in _IDS_BY_NAME:
            raise KeyError(f"unknown MGH tag name {key!r}; known: {', '.join(_IDS_BY_NAME)}")
        return _IDS_BY_NAME[name]
    return int(key)


@dataclass(frozen=True)
class MGHTag:
    """One tagged record: ``int32`` id, ``int64`` length, payload.

    Attributes
    ----------
    tag_id : int
        FreeSurfer's tag id (41 phase-encode direction, 42 frame info...).
    data : bytes
        The payload, exactly as stored.
    """

    tag_id: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes):
            object.__setattr__(self, "data", bytes(self.data))
        if not 0 < int(self.tag_id) < 2**31:
            raise ValueError(f"MGH tag ids are positive int32 values, not {self.tag_id!r}")
        if self.tag_id in LENGTHLESS_TAGS | ODD_LENGTH_TAGS:
            raise ValueError(
                f"tag {self.tag_id} ({TAG_NAMES[self.tag_id]}) has no int64 length field; "
                "voxelio keeps such records only as raw bytes (MGHTags.tail)"
            )

    @classmethod
    def from_text(cls, key: int | str, text: str, nul: bool = False) -> MGHTag:
        """A text record (``'PEDIR'``, ``'CMDLINE'``...), ASCII/UTF-8, optionally NUL-ended."""
        return cls(tag_code(key), text.encode("utf-8") + (b"\x00" if nul else b""))

    @property
    def name(self) -> str:
        """FreeSurfer's name for the tag ('PEDIR'), or 'UNKNOWN_<id>'."""
        return TAG_NAMES.get(self.tag_id, f"UNKNOWN_{self.tag_id}")

    @property
    def value(self) -> str | bytes:
        """The payload as text for text tags (trailing NULs removed), else the raw bytes."""
        if self.tag_id in TEXT_TAGS:
            return self.data.rstrip(b"\x00").decode("utf-8", errors="replace")
        return self.data

    def to_bytes(self) -> bytes:
        """The record as stored: id, length, payload."""
        return _RECORD_HEAD.pack(self.tag_id, len(self.data)) + self.data

    def __repr__(self) -> str:
        shown = self.value if self.tag_id in TEXT_TAGS else f"<{len(self.data)} bytes>"
        return f"MGHTag({self.tag_id} {self.name}: {shown!r})"


class MGHTags(list):
    """The tagged records of an MGH file, in file order, plus an opaque tail.

    A list of :class:`MGHTag`; ``tail`` holds the bytes after the last
    record voxelio could delimit (written back unchanged).
    """

    def __init__(self, records: Iterable[MGHTag] = (), tail: bytes = b"") -> None:
        super().__init__(records)
        self.tail = bytes(tail)

    @classmethod
    def from_bytes(cls, raw: bytes) -> MGHTags:
        """Parse the bytes after the footer (never raises on malformed input)."""
        raw = bytes(raw)
        budget = MetadataBudget("MGH tags", max_bytes=len(raw), max_records=len(raw))
        tags, _ = cls.from_fileobj(io.BytesIO(raw), budget, opaque_limit=len(raw))
        return tags

    @classmethod
    def from_fileobj(
        cls,
        fileobj: BinaryIO,
        budget: MetadataBudget | None = None,
        opaque_limit: int | None = None,
    ) -> tuple[MGHTags, str]:
        """Read the records from the current position (just after the footer).

        Memory follows what the stream holds, never a length a record
        claims. The bytes from the first record voxelio cannot delimit on
        are kept as :attr:`tail` when there are at most ``opaque_limit``
        of them (default :data:`voxelio.limits.OPAQUE_BYTES`); more are
        dropped, without being read.

        Returns
        -------
        tags : MGHTags
        problem : str
            Empty, or what was dropped.

        Raises
        ------
        ImageFileError
            When the records pass the budget (default: :mod:`voxelio.limits`).
        """
        budget = MetadataBudget("MGH tags") if budget is None else budget
        limit = limits.OPAQUE_BYTES if opaque_limit is None else opaque_limit
        records = []
        while True:
            head = fileobj.read(_RECORD_HEAD.size)
            if len(head) < _RECORD_HEAD.size:
                return cls(records, head), ""
            ident, length = _RECORD_HEAD.unpack(head)
            if ident <= 0 or ident in LENGTHLESS_TAGS | ODD_LENGTH_TAGS or length < 0:
                break
            data = budget.read(fileobj, length)
            if len(data) < length:
                return cls(records, head + data), ""  # cut short: kept as it was
            budget.charge(0, records=1)
            records.append(MGHTag(ident, data))
        rest = read_upto(fileobj, min(limit, budget.bytes_left) + 1 - len(head))
        tail = head + rest
        if len(tail) <= limit:
            budget.charge(len(tail), records=0)
            return cls(records, tail), ""
        problem = (
            f"more than {limit} bytes after the last MGH tag voxelio can read (at tag id "
            f"{ident}) were not kept (voxelio.limits.OPAQUE_BYTES); a save will not write them"
        )
        return cls(records), problem

    def to_bytes(self) -> bytes:
        """The records and tail as stored after the footer."""
        for record in self:
            if not isinstance(record, MGHTag):
                raise TypeError(f"MGH tags must be MGHTag records, not {type(record).__name__}")
        return b"".join(r.to_bytes() for r in self) + self.tail

    @property
    def nbytes(self) -> int:
        """Size of the stored records and tail."""
        return sum(len(r.data) + _RECORD_HEAD.size for r in self) + len(self.tail)

    def get(self, key: int | str, default: MGHTag | None = None) -> MGHTag | None:
        """The first record with this id or name, or ``default``."""
        wanted = tag_code(key)
        return next((r for r in self if r.tag_id == wanted), default)

    def get_all(self, key: int | str) -> list[MGHTag]:
        """Every record with this id or name."""
        wanted = tag_code(key)
        return [r for r in self if r.tag_id == wanted]

    def set(self, record: MGHTag) -> None:
        """Replace the first record with the same id (or append it)."""
        for i, old in enumerate(self):
            if old.tag_id == record.tag_id:
                self[i] = record
                return
        self.append(record)

    def remove_id(self, key: int | str) -> None:
        """Drop every record with this id or name."""
        wanted = tag_code(key)
        self[:] = [r for r in self if r.tag_id != wanted]

    def copy(self) -> MGHTags:
        return MGHTags(self, self.tail)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, list):
            return NotImplemented
        return list.__eq__(self, other) and self.tail == getattr(other, "tail", b"")

    def __ne__(self, other: object) -> bool:
        same = self.__eq__(other)
        return same if same is NotImplemented else not same

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        tail = f", tail=<{len(self.tail)} bytes>" if self.tail else ""
        return f"MGHTags({list.__repr__(self)}{tail})"

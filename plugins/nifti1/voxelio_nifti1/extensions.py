"""NIfTI-1 header extensions: records between the header and the data.

After the 348-byte header (540 in NIfTI-2) come four bytes whose first byte flags whether
extensions follow. Each extension is a record ``int32 esize, int32 ecode,
content``, where ``esize`` counts the whole record (8 + content + padding)
and must be a multiple of 16. In a ``.nii`` file the records fill the
space up to ``vox_offset``; in a ``.hdr`` file they run to its end.

Records are kept exactly as read (padding included), so an unchanged
extension is written back byte for byte; records of unknown codes are
kept too. Text extensions (comments, AFNI and XCEDE XML, CIFTI...) are
readable as text through :attr:`Nifti1Extension.text`.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable
from typing import Any, BinaryIO

import numpy as np

from voxelio.plugin import WARNING, HeaderDataError, Report

from ._layout import SINGLE_VOX_OFFSET
from .codes import EXTENSION_CODES


def _padded_size(content_length: int) -> int:
    """esize of a record holding ``content_length`` bytes: 8 + content, rounded up to 16."""
    return (content_length + 8 + 15) // 16 * 16


class Nifti1Extension:
    """One extension record.

    Parameters
    ----------
    code : int or str
        The extension code (``6`` or ``'comment'``). Codes missing from the
        standard's table are allowed as integers: unknown records are kept.
    content : bytes or str
        The record's content; text is stored as UTF-8.
    """

    def __init__(self, code: int | str, content: bytes | str = b"") -> None:
        if isinstance(code, str):
            code = EXTENSION_CODES.code(code)
        self.code = int(code)
        if not -(2**31) <= self.code < 2**31:
            raise HeaderDataError(f"extension code {self.code} does not fit an int32")
        if isinstance(content, str):
            content = content.encode("utf-8")
        #: the content, or None when it is ``_raw`` without its padding
        self._content: bytes | None = bytes(content)
        #: the content as read from disk, padding included (None if made in memory)
        self._raw: bytes | None = None

    @classmethod
    def from_record(cls, code: int, raw: bytes) -> Nifti1Extension:
        """An extension read from disk: ``raw`` is everything after esize and ecode."""
        obj = cls(code)
        # only the bytes read are kept: the content is cut from them on use, so
        # a large record costs its size once, not twice
        obj._raw = bytes(raw)
        obj._content = None
        return obj

    # -- content -------------------------------------------------------------------------
    @property
    def content(self) -> bytes:
        """The content, without the trailing zero padding."""
        if self._content is None:
            return self._raw.rstrip(b"\x00")  # type: ignore[union-attr]
        return self._content

    @content.setter
    def content(self, value: bytes | str) -> None:
        if isinstance(value, str):
            value = value.encode("utf-8")
        self._content = bytes(value)
        self._raw = None

    def get_code(self) -> int:
        """The extension code."""
        return self.code

    def get_content(self) -> bytes:
        """The content, without the trailing zero padding."""
        return self.content

    @property
    def label(self) -> str:
        """The code's name in the standard's table, or ``'unknown code N'``."""
        try:
            return EXTENSION_CODES.label(self.code)
        except HeaderDataError:
            return f"unknown code {self.code}"

    @property
    def text(self) -> str:
        """The content as text (UTF-8, falling back to Latin-1 for older files)."""
        content = self.content
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            return content.decode("latin-1")

    # -- on disk -------------------------------------------------------------------------
    def _payload(self) -> bytes:
        """Content plus padding, as written: the bytes read if unchanged."""
        if self._raw is not None:  # unchanged since read: setting the content drops it
            raw = self._raw
            if (len(raw) + 8) % 16 == 0:
                return raw
            return raw + b"\x00" * (_padded_size(len(raw)) - 8 - len(raw))
        content = self.content
        size = _padded_size(len(content))
        return content + b"\x00" * (size - 8 - len(content))

    def get_sizeondisk(self) -> int:
        """Bytes the record takes on disk (esize): a multiple of 16."""
        return len(self._payload()) + 8

    def to_bytes(self, endianness: str = "<") -> bytes:
        """The whole record (esize, ecode, content, padding) in the given byte order."""
        payload = self._payload()
        i4 = np.dtype("i4").newbyteorder(endianness)
        head = np.array([len(payload) + 8, self.code], dtype=i4)
        return head.tobytes() + payload

    def write_to(self, fileobj: BinaryIO, endianness: str = "<") -> None:
        """Write the record at the current position of ``fileobj``."""
        fileobj.write(self.to_bytes(endianness))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Nifti1Extension):
            return NotImplemented
        return (self.code, self.content) == (other.code, other.content)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        content = self.content
        shown = content[:40]
        more = "..." if len(content) > 40 else ""
        return f"Nifti1Extension({self.label!r}, {shown!r}{more})"


class Nifti1Extensions(list):
    """The extensions of a header: a list of :class:`Nifti1Extension`."""

    def __init__(self, items: Iterable[Nifti1Extension] = ()) -> None:
        super().__init__(items)

    def get_codes(self) -> list[int]:
        """The code of each extension, in order."""
        return [ext.code for ext in self]

    def count(self, code: Any) -> int:  # type: ignore[override]
        """How many extensions have this code (int or label)."""
        if isinstance(code, Nifti1Extension):
            return super().count(code)
        wanted = EXTENSION_CODES.code(code) if isinstance(code, str) else int(code)
        return sum(ext.code == wanted for ext in self)

    def find(self, code: Any) -> list[Nifti1Extension]:
        """The extensions with this code (int or label)."""
        wanted = EXTENSION_CODES.code(code) if isinstance(code, str) else int(code)
        return [ext for ext in self if ext.code == wanted]

    def get_sizeondisk(self) -> int:
        """Bytes all records take on disk (not counting the 4 flag bytes)."""
        return sum(ext.get_sizeondisk() for ext in self)

    def copy(self) -> Nifti1Extensions:
        """A copy whose records can be changed independently."""
        out = Nifti1Extensions()
        for ext in self:
            new = Nifti1Extension(ext.code)
            new._content, new._raw = ext._content, ext._raw
            out.append(new)
        return out

    def to_bytes(self, endianness: str = "<") -> bytes:
        """All records, in order."""
        return b"".join(ext.to_bytes(endianness) for ext in self)

    def write_to(self, fileobj: BinaryIO, endianness: str = "<") -> None:
        """Write all records at the current position of ``fileobj``."""
        fileobj.write(self.to_bytes(endianness))

    @classmethod
    def from_bytes(
        cls, region: bytes, endianness: str, start: int = SINGLE_VOX_OFFSET
    ) -> tuple[Nifti1Extensions, list[Report]]:
        """Parse the records in ``region`` (the bytes after the 4 flag bytes).

        ``start`` is the region's byte position in the file (352 after a
        NIfTI-1 header, 544 after a NIfTI-2 one), for the messages. See
        :meth:`from_fileobj`; the region's length is the room.
        """
        found = cls.from_fileobj(io.BytesIO(region), len(region), endianness, start)
        return found.extensions, found.reports

    @classmethod
    def from_fileobj(
        cls, fileobj: BinaryIO, room: int | None, endianness: str, start: int = SINGLE_VOX_OFFSET
    ) -> ExtensionsRead:
        """Read the records from the current position (just after the 4 flag bytes).

        Parameters
        ----------
        fileobj : file-like
            The (decompressed) stream.
        room : int or None
            Bytes the records may take: up to ``vox_offset`` in a single
            file; None for a pair header, whose records run to its end.
        endianness : str
            Byte order of ``esize`` and ``ecode``.
        start : int, optional
            The stream position's byte offset in the file, for the messages.

        Parsing stops at a zero record head (padding up to the data), at
        the end of the room or of the stream, and at the first malformed
        record (size below 8, past the room, or cut short by the end of
        the file): what was read before is kept and a report says what was
        skipped. Memory follows the bytes the stream holds, never a size
        a record claims.

        Raises
        ------
        ImageFileError
            When the records pass :mod:`voxelio.limits` (too many, or too
            many bytes).
        """
        from voxelio.plugin import MetadataBudget  # here: most files have no extensions

        budget = MetadataBudget("NIfTI extensions")
        exts = cls()
        reports: list[Report] = []
        odd_sizes: list[int] = []
        n_odd = 0
        pos = 0
        ended = False
        head_format = struct.Struct(endianness + "ii")
        while room is None or room - pos >= 8:
            head = fileobj.read(8)
            if len(head) < 8:
                ended = True
                break
            esize, ecode = head_format.unpack(head)
            if esize == 0 and ecode == 0:
                break  # zero padding up to the data
            left = None if room is None else room - pos
            if esize < 8 or (left is not None and esize > left):
                where = "the end of the header file" if left is None else "the data"
                reports.append(Report(
                    WARNING,
                    f"extension {len(exts) + 1} at byte {start + pos} has size "
                    f"{esize}, which does not fit before {where}"
                    + ("" if left is None else f" ({left} bytes)"),
                    "ignored it and any extensions after it",
                ))
                break
            payload = budget.read(fileobj, esize - 8)
            if len(payload) < esize - 8:
                ended = True
                reports.append(Report(
                    WARNING,
                    f"extension {len(exts) + 1} at byte {start + pos} has size "
                    f"{esize}, but the file ends {len(payload) + 8} bytes into it",
                    "ignored the incomplete extension",
                ))
                break
            budget.charge(0, records=1)
            if esize % 16:
                n_odd += 1
                if len(odd_sizes) < 5:
                    odd_sizes.append(esize)
            exts.append(Nifti1Extension.from_record(ecode, payload))
            pos += esize
        if n_odd:
            shown = ", ".join(str(s) for s in odd_sizes) + (", ..." if n_odd > 5 else "")
            reports.append(Report(
                WARNING,
                f"{n_odd} extension size(s) ({shown}) are not multiples of 16 as the "
                "standard requires",
                "kept the records; the data still start at vox_offset; records are padded "
                "to a multiple of 16 when written",
            ))
        return ExtensionsRead(exts, reports, pos, ended)


class ExtensionsRead:
    """What :meth:`Nifti1Extensions.from_fileobj` found.

    Attributes
    ----------
    extensions : Nifti1Extensions
        The complete records.
    reports : list of Report
        What was malformed and skipped.
    nbytes : int
        Bytes the complete records take in the file.
    ended : bool
        Whether the stream ended before the room did.
    """

    # a plain class: a dataclass costs every process that reads a NIfTI file
    # its creation at import
    __slots__ = ("ended", "extensions", "nbytes", "reports")

    def __init__(
        self, extensions: Nifti1Extensions, reports: list[Report], nbytes: int, ended: bool
    ) -> None:
        self.extensions, self.reports, self.nbytes, self.ended = extensions, reports, nbytes, ended

"""Blocked gzip: the byte layout of its members, and the index of a file's members.

A blocked gzip file is a plain concatenation of complete gzip members (RFC
1952 allows any number), each holding at most ``block_size`` uncompressed
bytes that were deflated independently. Every member's header carries an
FEXTRA subfield with the identifier ``VX`` and 8 bytes of payload: the whole
member's size in bytes (header to trailer) and its uncompressed size, both
unsigned 32-bit little endian. A reader finds member ``k + 1`` at the offset
of member ``k`` plus its size, without inflating anything; ordinary gzip
readers skip the unknown subfield and see one continuous stream.

BGZF files (bgzip, samtools) use the same idea with subfield ``BC`` and a
16-bit size; :func:`scan_members` indexes those too, taking the uncompressed
size from the member's ISIZE trailer.

Output is reproducible: mtime is 0, no file name, OS byte 255 ("unknown").
"""

from __future__ import annotations

import struct
from collections.abc import Callable

#: Uncompressed bytes per member. 512 KiB keeps the size cost of restarting
#: the deflate dictionary at about 0.2% at level 1 (1 MiB: 0.1%, 256 KiB:
#: 0.45%, 64 KiB: 1.5%) while a 3D volume of a 4D series spans at most two
#: or three members.
DEFAULT_BLOCK_SIZE = 512 * 1024
MAX_BLOCK_SIZE = 64 * 1024 * 1024
#: the most a BGZF member holds uncompressed (the format's limit)
BGZF_MAX_BLOCK_SIZE = 64 * 1024
#: deflate inflates at most about 1032 bytes per compressed byte
MAX_DEFLATE_RATIO = 1100
GZIP_MAGIC = b"\x1f\x8b"
_FEXTRA = 0x04
_OS_UNKNOWN = 255
SUBFIELD_ID = b"VX"
_SUBFIELD_LEN = 8
# ID1 ID2 CM FLG MTIME XFL OS | XLEN | SI1 SI2 LEN | member size, uncompressed size
_HEADER = struct.Struct("<2sBBIBBH2sHII")
HEADER_SIZE = _HEADER.size  # 24
_TRAILER = struct.Struct("<II")  # CRC32, ISIZE
_PLAIN_HEADER = struct.Struct("<2sBBIBB")


def _xfl(level: int) -> int:
    # RFC 1952: 2 = slowest/best compression, 4 = fastest.
    return 2 if level >= 9 else 4 if level <= 1 else 0


def member_header(body_size: int, usize: int, level: int) -> bytes:
    """The header of a blocked member whose deflated payload and trailer take ``body_size``."""
    return _HEADER.pack(
        GZIP_MAGIC, 8, _FEXTRA, 0, _xfl(level), _OS_UNKNOWN,
        4 + _SUBFIELD_LEN, SUBFIELD_ID, _SUBFIELD_LEN, HEADER_SIZE + body_size, usize,
    )


def plain_member_header(level: int) -> bytes:
    """The header of an ordinary gzip member (no extra field), as voxelio writes it."""
    return _PLAIN_HEADER.pack(GZIP_MAGIC, 8, 0, 0, _xfl(level), _OS_UNKNOWN)


def member_trailer(crc: int, usize: int) -> bytes:
    """A member's trailer: CRC32 and uncompressed size, both modulo 2**32."""
    return _TRAILER.pack(crc & 0xFFFFFFFF, usize & 0xFFFFFFFF)


def last_member_size(pread: Callable[[int, int], bytes], file_size: int) -> int | None:
    """The uncompressed size (modulo 2**32) the file's last 4 bytes state, if it has 20.

    A gzip member ends with its ISIZE: for a file holding one member this is
    its whole decompressed size (below 4 GiB); for several, only the last
    one's; after trailing bytes, nothing meaningful. A hint, never a fact.
    """
    if file_size < 20:  # the smallest gzip member: 10-byte header, empty block, trailer
        return None
    tail = pread(file_size - 4, 4)
    return struct.unpack("<I", tail)[0] if len(tail) == 4 else None


def parse_member_header(head: bytes) -> tuple[int, int | None] | None:
    """``(member size, uncompressed size or None)`` from a header's size subfield.

    Returns None when ``head`` is not a gzip header with a ``VX`` or ``BC``
    subfield (a plain gzip member), so the caller falls back to streaming.
    """
    if len(head) < 12 or head[:2] != GZIP_MAGIC or head[2] != 8 or not head[3] & _FEXTRA:
        return None
    (xlen,) = struct.unpack_from("<H", head, 10)
    extra = head[12 : 12 + xlen]
    pos = 0
    while pos + 4 <= len(extra):
        sid = bytes(extra[pos : pos + 2])
        (slen,) = struct.unpack_from("<H", extra, pos + 2)
        body = extra[pos + 4 : pos + 4 + slen]
        if len(body) < slen:
            return None
        if sid == SUBFIELD_ID and slen == _SUBFIELD_LEN:
            total, usize = struct.unpack("<II", body)
            return total, usize
        if sid == b"BC" and slen == 2:
            return struct.unpack("<H", body)[0] + 1, None
        pos += 4 + slen
    return None


def member_at(
    pread: Callable[[int, int], bytes], pos: int, file_size: int
) -> tuple[int, int] | None:
    """``(member size, uncompressed size)`` of the blocked member at ``pos``, read by ``pread``.

    None when no blocked member starts there (a plain gzip member, other
    bytes, the end of the file), its declared size does not fit the file, or
    its uncompressed size is not plausible (see :func:`plausible_size`; BGZF:
    more than 64 KiB).
    """
    head = pread(pos, 64)
    if len(head) >= 12 and head[:2] == GZIP_MAGIC and head[3] & _FEXTRA:
        (xlen,) = struct.unpack_from("<H", head, 10)
        if 12 + xlen > len(head):
            head = pread(pos, 12 + xlen)
    parsed = parse_member_header(head)
    if parsed is None:
        return None
    total, usize = parsed
    if total < 12 + _TRAILER.size or pos + total > file_size:
        return None
    if usize is None:  # BGZF: the size is in the trailer
        trailer = pread(pos + total - 4, 4)
        if len(trailer) < 4:
            return None
        (usize,) = struct.unpack("<I", trailer)
        if usize > BGZF_MAX_BLOCK_SIZE:
            return None
    return (total, usize) if plausible_size(total, usize) else None


def plausible_size(total: int, usize: int) -> bool:
    """Whether a member of ``total`` bytes may hold ``usize`` bytes uncompressed.

    A size no writer makes (more than :data:`MAX_BLOCK_SIZE`) or that the
    member's bytes cannot inflate to is not trusted: readers allocate it as
    their output buffer. Such a member is streamed instead, and its own
    bytes say what it holds.
    """
    return usize <= min(MAX_BLOCK_SIZE, MAX_DEFLATE_RATIO * total)


def members_in(
    window: bytes | memoryview, pos: int, file_size: int
) -> tuple[list[tuple[int, int]], bool]:
    """The blocked members whose headers ``window`` (the file's bytes from ``pos``) holds.

    Returns ``(members, ended)``: each member's ``(size, uncompressed size)``
    in file order, the first at ``pos``, and whether parsing stopped because
    no blocked member starts after the last (``ended``), rather than
    because the window ran out. A member whose header is in the window but
    whose size must be read from its trailer beyond it (BGZF) is left for
    :func:`member_at`.
    """
    members: list[tuple[int, int]] = []
    at = 0
    while pos + at < file_size:
        head = window[at : at + 12]
        if len(head) < 12:
            break
        if head[:2] != GZIP_MAGIC or not head[3] & _FEXTRA:
            return members, True
        (xlen,) = struct.unpack_from("<H", head, 10)
        if at + 12 + xlen > len(window):
            break
        parsed = parse_member_header(window[at : at + 12 + xlen])
        if parsed is None:
            return members, True
        total, usize = parsed
        if total < 12 + _TRAILER.size or pos + at + total > file_size:
            return members, True
        if usize is None:
            if at + total > len(window):
                break
            (usize,) = struct.unpack_from("<I", window, at + total - 4)
            if usize > BGZF_MAX_BLOCK_SIZE:
                return members, True
        if not plausible_size(total, usize):
            return members, True
        members.append((total, usize))
        at += total
    return members, pos + at >= file_size


def scan_members(
    pread: Callable[[int, int], bytes], file_size: int
) -> tuple[list[int], list[int], list[int]]:
    """Index the members at the start of a blocked file by hopping their headers.

    Returns ``(coffs, uoffs, csizes)``: member ``k`` starts at compressed offset
    ``coffs[k]`` and uncompressed offset ``uoffs[k]``; ``uoffs`` has one more
    entry, the uncompressed end of the indexed part. Scanning stops at the
    first member without a size subfield or whose size does not fit the
    file; the caller streams from ``coffs[-1] + csizes[-1]`` (or 0) onward.
    One read per member: sources index lazily instead (see
    :class:`~voxelio.codecs.sources.BlockedGzipSource`).
    """
    coffs: list[int] = []
    csizes: list[int] = []
    uoffs = [0]
    pos = 0
    while pos < file_size:
        found = member_at(pread, pos, file_size)
        if found is None:
            break
        total, usize = found
        coffs.append(pos)
        csizes.append(total)
        uoffs.append(uoffs[-1] + usize)
        pos += total
    return coffs, uoffs, csizes

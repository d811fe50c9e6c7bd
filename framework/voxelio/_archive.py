"""The ZIP archive that holds a multi-file image as bytes (``to_bytes``/``from_bytes``).

Reading takes only the members the format needs, one per file type, found
by extension. It refuses what could make a different image load than the
one meant (two members of one name, two members for one file type) and
turns every archive problem (corrupt data, encryption, a compression
method Python lacks) into :class:`~voxelio.errors.ImageFileError`. A
member is read in chunks, so memory follows what it really holds.
"""

from __future__ import annotations

import io
import os
import zlib
from collections import Counter
from collections.abc import Mapping
from typing import Any

from .errors import ImageFileError
from .limits import read_upto


def pack_members(members: Mapping[str, bytes]) -> bytes:
    """An uncompressed ZIP of ``name -> content``, with a fixed date (reproducible bytes)."""
    import zipfile  # imported here: zipfile pulls in shutil, bz2 and lzma

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content)
    return out.getvalue()


def unpack_members(data: bytes, wanted: Mapping[str, str], what: str) -> dict[str, bytes]:
    """The content of the member for each file type of ``wanted`` (file type -> extension).

    Members whose extension no file type has are ignored, and never read.

    Raises
    ------
    ImageFileError
        For an archive that is corrupt, ambiguous (repeated names, several
        members for one file type), lacks a member, or holds a member that
        is encrypted, compressed with a method Python cannot read, or
        corrupt.
    """
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _archive_errors(zipfile) as err:
        raise ImageFileError(f"corrupt {what} archive: {err}") from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        repeated = sorted(n for n, k in Counter(i.filename for i in infos).items() if k > 1)
        if repeated:
            raise ImageFileError(
                f"{what} archive holds several members named {repeated}: it is ambiguous "
                "which one to read"
            )
        by_ext: dict[str, list[Any]] = {}
        for info in infos:
            by_ext.setdefault(os.path.splitext(info.filename)[1].lower(), []).append(info)
        out = {}
        for file_type, ext in wanted.items():
            found = by_ext.get(ext.lower(), [])
            if not found:
                raise ImageFileError(f"{what} archive has no {ext} member")
            if len(found) > 1:
                names = [i.filename for i in found]
                raise ImageFileError(
                    f"{what} archive holds {len(found)} {ext} members {names}: it is "
                    f"ambiguous which one is the {file_type} file"
                )
            out[file_type] = _read_member(zipfile, archive, found[0], what)
    return out


def _read_member(zipfile: Any, archive: Any, info: Any, what: str) -> bytes:
    name = info.filename
    if info.flag_bits & 0x1:
        raise ImageFileError(
            f"{what} archive member {name!r} is encrypted; voxelio cannot read it"
        )
    readable = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
    if info.compress_type not in readable:
        raise ImageFileError(
            f"{what} archive member {name!r} uses compression method {info.compress_type}, "
            "which Python's zipfile cannot read (stored, deflate, bzip2 and lzma can be read)"
        )
    try:
        with archive.open(info) as member:
            # in chunks: the size the archive declares may be a lie
            content = read_upto(member, info.file_size)
    except _archive_errors(zipfile) as err:
        raise ImageFileError(f"cannot read {what} archive member {name!r}: {err}") from None
    if len(content) != info.file_size:
        raise ImageFileError(
            f"{what} archive member {name!r} holds {len(content)} bytes, not the "
            f"{info.file_size} its entry declares: the archive is corrupt"
        )
    return content


def _archive_errors(zipfile: Any) -> tuple[type[BaseException], ...]:
    """Every error a corrupt archive can raise from zipfile and its decompressors."""
    errors: list[type[BaseException]] = [
        zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
        NotImplementedError, RuntimeError, OverflowError, KeyError,
    ]
    lzma = getattr(zipfile, "lzma", None)
    if lzma is not None:
        errors.append(lzma.LZMAError)
    return tuple(errors)

"""What reading a file may cost, whatever its header claims.

A header is a handful of numbers a hostile or damaged file can set to
anything: a record length of 2 GiB, millions of tiny records, a data
offset far past the end. Readers never allocate on the word of such a
field. They read in bounded chunks, so memory follows the bytes a file
really holds, and they stop with :class:`~voxelio.errors.ImageFileError`
once the metadata of one header (extension records, tags: everything
kept in memory besides the data) pass these limits.

The limits are module attributes read at each use; a program that trusts
its files and needs more can raise them::

    import voxelio.limits
    voxelio.limits.METADATA_BYTES = 1 << 30
"""

from __future__ import annotations

import io
from typing import BinaryIO

from .errors import ImageFileError

#: most bytes of metadata (extension records, tags...) one header may keep in memory
METADATA_BYTES = 32 * 2**20
#: most metadata records one header may hold (each costs a Python object)
METADATA_RECORDS = 10_000
#: most bytes a reader keeps without understanding them (an opaque tail after
#: the records it can parse), so that a round trip can write them back
OPAQUE_BYTES = 4 * 2**20
#: bytes read at once when the length to read comes from the file itself
CHUNK_BYTES = 1 << 20


def read_upto(stream: BinaryIO, nbytes: int) -> bytes:
    """Read ``nbytes`` bytes, or fewer if the stream ends first.

    Memory follows what the stream really holds: a length taken from a
    header (possibly huge) is read in chunks of :data:`CHUNK_BYTES`.
    """
    if nbytes <= CHUNK_BYTES:
        return bytes(stream.read(max(nbytes, 0)) or b"")
    # a BytesIO hands over its buffer without a copy: peak memory stays near
    # the bytes read, not twice that as a list of chunks joined at the end
    out = io.BytesIO()
    left = nbytes
    while left > 0:
        chunk = stream.read(min(CHUNK_BYTES, left))
        if not chunk:
            break
        out.write(chunk)
        left -= len(chunk)
    return out.getvalue()


class MetadataBudget:
    """The metadata one header read has kept so far, refused past the limits.

    Parameters
    ----------
    what : str
        What is being read, for the error message ("NIfTI-1 extensions").
    max_bytes, max_records : int, optional
        Limits; default :data:`METADATA_BYTES` and :data:`METADATA_RECORDS`
        as they are when the budget is made.
    """

    def __init__(
        self, what: str, max_bytes: int | None = None, max_records: int | None = None
    ) -> None:
        self.what = what
        self.max_bytes = METADATA_BYTES if max_bytes is None else max_bytes
        self.max_records = METADATA_RECORDS if max_records is None else max_records
        self.nbytes = 0
        self.records = 0

    @property
    def bytes_left(self) -> int:
        """Bytes that may still be kept."""
        return max(self.max_bytes - self.nbytes, 0)

    def read(self, stream: BinaryIO, nbytes: int) -> bytes:
        """Read up to ``nbytes`` (fewer at the end of the stream) and count them.

        Raises
        ------
        ImageFileError
            When the stream really holds more than the bytes left; nothing
            beyond one byte past the limit is read.
        """
        data = read_upto(stream, min(nbytes, self.bytes_left + 1))
        self.charge(len(data), records=0)
        return data

    def charge(self, nbytes: int, records: int = 1) -> None:
        """Count ``nbytes`` more bytes and ``records`` more records.

        Raises
        ------
        ImageFileError
            When either total passes its limit.
        """
        self.nbytes += nbytes
        self.records += records
        if self.nbytes > self.max_bytes:
            raise ImageFileError(
                f"the {self.what} hold more than {self.max_bytes} bytes, the limit on "
                "metadata voxelio keeps in memory (voxelio.limits.METADATA_BYTES): the file "
                "is corrupt or hostile; raise the limit if you trust it"
            )
        if self.records > self.max_records:
            raise ImageFileError(
                f"the {self.what} hold more than {self.max_records} records, the limit "
                "voxelio accepts (voxelio.limits.METADATA_RECORDS): the file is corrupt "
                "or hostile; raise the limit if you trust it"
            )

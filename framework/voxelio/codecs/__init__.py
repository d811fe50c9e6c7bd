"""Transparent compression (gzip, bzip2, zstd) for reading and writing any format.

Reading recognises compression from the content, so a compressed file is read
whatever its name; writing takes the compression from the caller, who
usually derives it from the file name with :func:`compression_from_name`.

gzip output is *blocked* by default: a sequence of independent gzip members
of at most 512 KiB of data each, every member stating its compressed and
uncompressed size in a header extra field (see :mod:`voxelio.codecs.gzip_layout`).
Every gzip reader reads such a file as ordinary gzip; voxelio inflates its
members in parallel and reads any byte range by inflating only the members
that hold it. Single-stream gzip written by other tools is read with a seek
index of decompressor checkpoints built as reading goes.

The fastest installed implementation does the work (:func:`available_codecs`):
ISA-L (``isal``) for gzip and ``zstandard`` for zstd when installed (extra
``voxelio[fast]``), the standard library otherwise. ``VOXELIO_STDLIB_CODECS=1``
forces the standard library; ``VOXELIO_NUM_THREADS`` bounds the worker threads.
No optional package (nor numpy) is imported until a codec is used.

The package's parts:

- :mod:`~voxelio.codecs.detect`: the codec a file name or a file's first bytes call for.
- :mod:`~voxelio.codecs.opening`: :func:`opened`, :func:`open_indexed`, :func:`read_into`.
- :mod:`~voxelio.codecs.backends`: which library does each codec; the shared threads.
- :mod:`~voxelio.codecs.gzip_layout`: the blocked gzip byte layout and member index.
- :mod:`~voxelio.codecs.writers`: the compressing writers.
- :mod:`~voxelio.codecs.access`: positional reads of a file's compressed bytes.
- :mod:`~voxelio.codecs.decompressors`: one decompression step per codec.
- :mod:`~voxelio.codecs.seek_index`: single streams read through decompressor checkpoints.
- :mod:`~voxelio.codecs.gzip_reader`: ISA-L's gzip reader, inflating straight into a buffer.
- :mod:`~voxelio.codecs.held`: a whole stream inflated into one buffer a read can take over.
- :mod:`~voxelio.codecs.sources`: plain, blocked gzip and stream sources, and which to use.
- :mod:`~voxelio.codecs.reader`: :class:`IndexedReader`, the file object over a source
  (what :func:`open_indexed` returns; its methods are public, its constructor is not).
- :mod:`~voxelio.codecs.handoff`: a reader passed from a file's opener to its next reader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

# the naming facts are a leaf module, cheap enough for the registry to import
from .detect import (
    COMPRESSED_SUFFIXES,
    SUFFIX_CODECS,
    Compression,
    compression_from_name,
    detect_compression,
    split_compression,
    strip_compression,
)

if TYPE_CHECKING:
    from .backends import available_codecs, thread_pool
    from .gzip_layout import DEFAULT_BLOCK_SIZE as GZIP_BLOCK_SIZE
    from .handoff import ReaderHandOff as ReaderHandOff  # documented in codecs.handoff
    from .opening import open_indexed, opened, read_into
    from .reader import IndexedReader

# The rest is imported on first use, so that code needing only the suffix
# table (registry, file maps) does not load the codec machinery.
_LAZY = {
    "available_codecs": "voxelio.codecs.backends",
    "thread_pool": "voxelio.codecs.backends",
    "ReaderHandOff": "voxelio.codecs.handoff",
    "GZIP_BLOCK_SIZE": "voxelio.codecs.gzip_layout:DEFAULT_BLOCK_SIZE",
    "IndexedReader": "voxelio.codecs.reader",
    "open_indexed": "voxelio.codecs.opening",
    "opened": "voxelio.codecs.opening",
    "read_into": "voxelio.codecs.opening",
}

__all__ = [
    "COMPRESSED_SUFFIXES",
    "GZIP_BLOCK_SIZE",
    "SUFFIX_CODECS",
    "Compression",
    "IndexedReader",
    "available_codecs",
    "compression_from_name",
    "detect_compression",
    "open_indexed",
    "opened",
    "read_into",
    "split_compression",
    "strip_compression",
    "thread_pool",
]


__getattr__, __dir__ = lazy_attributes(globals(), _LAZY)

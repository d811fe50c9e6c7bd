"""The plugin-author API: everything a format plugin imports from voxelio.

A format plugin imports from this module only; the names below are the
framework's promise to plugin authors, kept stable across releases. The
first-party plugins (analyze, nifti1, nifti2, mgh) import nothing else from voxelio,
and a test checks it.

Importing it is cheap enough for a plugin's entry module (the module
its ``voxelio.plugins`` entry point names, imported at discovery): the
names a spec and a sniff need are plain Python, and the names that need
numpy are imported on first use (module ``__getattr__``), so
``from voxelio.plugin import FormatSpec`` never imports numpy while
``from voxelio.plugin import SpatialImage`` in a reader module does.

Names for declaring a format (no numpy):

FormatSpec, MagicRule, SniffResult
    The declaration of a format and what a sniff function returns.
YES, WEAK, NO, VERDICTS
    The sniff verdicts.
API_VERSION
    The plugin contract version a spec is written for.
RGB_DTYPE, RGBA_DTYPE
    The colour dtypes as a spec's ``dtypes`` (and a code table row) names them.
hookimpl
    The marker of hook implementations (``voxelio_formats`` ...).
VoxelioError, ImageFileError, HeaderDataError, HeaderTypeError
    The errors plugins raise (and catch) ...
ImageDataError, WriterError, InvalidSpecError
    ... the data and writing errors, and a malformed spec.
FileHolder
    One file of an image: a name or a file object, and a position.
COMPRESSED_SUFFIXES, detect_compression
    The suffixes of transparent compression; the codec a file's first bytes show.
ReaderHandOff
    Passes a compressed file's reader from the header read to the data proxy.
limits, MetadataBudget, read_upto
    The memory bounds readers respect (module attributes, adjustable), the
    budget of a header's variable-length metadata, and a bounded read.
LazyMember
    A class attribute whose function lives in another module, imported on
    first use: long methods a load never calls (conversions, rarely used
    fields) stay out of every process that only loads.

Names for reading and writing a format (imported on first use; need numpy):

SpatialImage, Header
    The image model plugins subclass, and the header template.
StructHeader, Report, OK, INFO, WARNING, MODERATE, ERROR, CRITICAL, NATIVE, SWAPPED
    Binary headers laid out as a C struct, their check reports and the
    report levels, and the byte-order codes.
Code, CodeTable, DtypeTable
    Code tables (``DtypeTable.from_rows`` builds one from plain rows).
RGB, RGBA
    The colour dtypes as numpy dtypes.
ArrayProxy, is_proxy
    The lazy array on a file, and how to recognise one.
StoragePlan, plan_storage
    How an image's values are stored (dtype, scaling) when saving.
voxel_sizes
    Voxel sizes from an affine.

Examples
--------
An entry module::

    from voxelio.plugin import YES, FormatSpec, SniffResult, hookimpl

A reader module::

    from voxelio.plugin import ArrayProxy, SpatialImage, StructHeader
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import LazyMember, lazy_attributes
from .codecs.detect import COMPRESSED_SUFFIXES, detect_compression
from .codecs.handoff import ReaderHandOff
from .errors import (
    HeaderDataError,
    HeaderTypeError,
    ImageDataError,
    ImageFileError,
    VoxelioError,
    WriterError,
)
from .filemaps import FileHolder
from .registry.spec import (
    API_VERSION,
    NO,
    RGB_DTYPE,
    RGBA_DTYPE,
    VERDICTS,
    WEAK,
    YES,
    FormatSpec,
    InvalidSpecError,
    MagicRule,
    SniffResult,
)

if TYPE_CHECKING:  # the lazy names, for type checkers and IDEs
    from . import limits
    from .codes import Code, CodeTable, DtypeTable
    from .dtypes import RGB, RGBA
    from .geometry import voxel_sizes
    from .header import Header
    from .hookspecs import hookimpl
    from .image import SpatialImage
    from .limits import MetadataBudget, read_upto
    from .proxy import ArrayProxy, is_proxy
    from .structheader import (
        CRITICAL,
        ERROR,
        INFO,
        MODERATE,
        NATIVE,
        OK,
        SWAPPED,
        WARNING,
        Report,
        StructHeader,
    )
    from .writing import StoragePlan, plan_storage

#: names imported on first use that need no numpy: the hook marker (entry
#: modules only) and the memory bounds (readers of variable-length metadata)
_DEFERRED = {
    "hookimpl": "voxelio.hookspecs",
    "limits": "voxelio.limits:",
    "MetadataBudget": "voxelio.limits",
    "read_upto": "voxelio.limits",
}

#: name -> module of the names that import numpy, imported on first use
_NEEDS_NUMPY = {
    "SpatialImage": "voxelio.image",
    "Header": "voxelio.header",
    "StructHeader": "voxelio.structheader",
    "Report": "voxelio.structheader",
    "OK": "voxelio.structheader",
    "INFO": "voxelio.structheader",
    "WARNING": "voxelio.structheader",
    "MODERATE": "voxelio.structheader",
    "ERROR": "voxelio.structheader",
    "CRITICAL": "voxelio.structheader",
    "NATIVE": "voxelio.structheader",
    "SWAPPED": "voxelio.structheader",
    "Code": "voxelio.codes",
    "CodeTable": "voxelio.codes",
    "DtypeTable": "voxelio.codes",
    "RGB": "voxelio.dtypes",
    "RGBA": "voxelio.dtypes",
    "ArrayProxy": "voxelio.proxy",
    "is_proxy": "voxelio.proxy",
    "StoragePlan": "voxelio.writing",
    "plan_storage": "voxelio.writing",
    "voxel_sizes": "voxelio.geometry",
}

__all__ = [
    "API_VERSION",
    "COMPRESSED_SUFFIXES",
    "CRITICAL",
    "ERROR",
    "INFO",
    "MODERATE",
    "NATIVE",
    "NO",
    "OK",
    "RGB",
    "RGBA",
    "RGBA_DTYPE",
    "RGB_DTYPE",
    "SWAPPED",
    "VERDICTS",
    "WARNING",
    "WEAK",
    "YES",
    "ArrayProxy",
    "Code",
    "CodeTable",
    "DtypeTable",
    "FileHolder",
    "FormatSpec",
    "Header",
    "HeaderDataError",
    "HeaderTypeError",
    "ImageDataError",
    "ImageFileError",
    "InvalidSpecError",
    "LazyMember",
    "MagicRule",
    "MetadataBudget",
    "ReaderHandOff",
    "Report",
    "SniffResult",
    "SpatialImage",
    "StoragePlan",
    "StructHeader",
    "VoxelioError",
    "WriterError",
    "detect_compression",
    "hookimpl",
    "is_proxy",
    "limits",
    "plan_storage",
    "read_upto",
    "voxel_sizes",
]


#: every name imported on first use
_LAZY = {**_DEFERRED, **_NEEDS_NUMPY}

__getattr__, __dir__ = lazy_attributes(globals(), _LAZY)

"""Entry module of voxelio-analyze: the format declaration, nothing heavy.

It imports neither numpy nor the reader modules; the image class is named
as a string and imported only when an Analyze file is read or written. The
layout facts it uses (348-byte header, ``dim`` at byte 40, NIfTI magic at
byte 344) come from :mod:`voxelio_analyze._layout`, as the header's do.

The sniffer lives in :mod:`voxelio_analyze.sniffing`: a load imports that
module alone (the registry names it from its cache), not this one.
"""

from __future__ import annotations

from voxelio.plugin import FormatSpec, hookimpl

from ._layout import DTYPES, EXTENSIONS, FILES_TYPES, HEADER_SIZE, SNIFF_FILE_TYPE
from .sniffing import sniff

ANALYZE = FormatSpec(
    name="analyze",
    image_class="voxelio_analyze.image:AnalyzeImage",
    extensions=EXTENSIONS,
    files_types=FILES_TYPES,
    sniff=sniff,
    sniff_bytes=HEADER_SIZE,
    sniff_file_type=SNIFF_FILE_TYPE,
    sniff_trusted=True,  # a few comparisons of fixed fields: bounded
    exports={"AnalyzeHeader": "voxelio_analyze.header:AnalyzeHeader"},
    dtypes=DTYPES,
    description="Analyze 7.5 image/header pair (SPM scale factor and origin honoured)",
    nibabel_class="nibabel.spm2analyze:Spm2AnalyzeImage",
)


@hookimpl
def voxelio_formats() -> list[FormatSpec]:
    """The Analyze 7.5 format."""
    return [ANALYZE]

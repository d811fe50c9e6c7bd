"""Entry module of voxelio-nifti1: the format declarations.

Imports nothing heavy (no numpy, no reader code): the registry loads it at
discovery. The layout facts used here (header sizes, magic strings and
their offsets) come from :mod:`voxelio_nifti1._layout`, as the header's do.

Two formats are declared: ``nifti1`` (one ``.nii`` file, magic ``n+1``)
and ``nifti1-pair`` (``.hdr`` + ``.img``, magic ``ni1``), which refines
Analyze 7.5. Both refuse NIfTI-2 and CIFTI-2 files, which share the
``.nii`` extension, saying what the file is.

The sniffers live in :mod:`voxelio_nifti1.sniffing`: a load imports that
module alone (the registry names them from its cache), not this one.
"""

from __future__ import annotations

from voxelio.plugin import FormatSpec, hookimpl

from ._layout import (
    DTYPES,
    NIFTI2_HEADER_SIZE,
    PAIR_EXTENSIONS,
    PAIR_FILES_TYPES,
    SINGLE_EXTENSIONS,
    SINGLE_FILES_TYPES,
)
from .sniffing import sniff_pair, sniff_single

_EXPORTS = {
    "Nifti1Header": "voxelio_nifti1.header:Nifti1Header",
    "Nifti1PairHeader": "voxelio_nifti1.header:Nifti1PairHeader",
    "Nifti1Extension": "voxelio_nifti1.extensions:Nifti1Extension",
    "Nifti1Extensions": "voxelio_nifti1.extensions:Nifti1Extensions",
}

NIFTI1 = FormatSpec(
    name="nifti1",
    image_class="voxelio_nifti1.image:Nifti1Image",
    extensions=SINGLE_EXTENSIONS,
    files_types=SINGLE_FILES_TYPES,
    sniff=sniff_single,
    sniff_bytes=NIFTI2_HEADER_SIZE,
    sniff_trusted=True,  # fixed fields compared: bounded
    exports=_EXPORTS,
    dtypes=DTYPES,
    description="NIfTI-1 single file (.nii, magic n+1)",
    nibabel_class="nibabel.nifti1:Nifti1Image",
)

NIFTI1_PAIR = FormatSpec(
    name="nifti1-pair",
    image_class="voxelio_nifti1.image:Nifti1Pair",
    extensions=PAIR_EXTENSIONS,
    files_types=PAIR_FILES_TYPES,
    sniff=sniff_pair,
    sniff_bytes=NIFTI2_HEADER_SIZE,
    sniff_trusted=True,
    dtypes=DTYPES,
    supersedes=("analyze",),
    description="NIfTI-1 pair (.hdr + .img, magic ni1)",
    nibabel_class="nibabel.nifti1:Nifti1Pair",
)


@hookimpl
def voxelio_formats() -> list[FormatSpec]:
    """The NIfTI-1 single-file and pair formats."""
    return [NIFTI1, NIFTI1_PAIR]

"""Entry module of voxelio-nifti2: the format declarations.

Imports nothing heavy (no numpy, no reader code): the registry loads it at
discovery. Two formats: ``nifti2`` (one ``.nii`` file, magic ``n+2``) and
``nifti2-pair`` (``.hdr`` + ``.img``, magic ``ni2``). CIFTI-2 files
(``.dscalar.nii``, ``.dtseries.nii``...) are single NIfTI-2 files: the
evidence names them, and they load as NIfTI-2 images.

The sniffers live in :mod:`voxelio_nifti2.sniffing`: a load imports that
module alone (the registry names them from its cache), not this one.
"""

from __future__ import annotations

from voxelio.plugin import FormatSpec, hookimpl

from . import _layout as layout
from .sniffing import sniff_pair, sniff_single

_EXPORTS = {
    "Nifti2Header": "voxelio_nifti2.header:Nifti2Header",
    "Nifti2PairHeader": "voxelio_nifti2.header:Nifti2PairHeader",
}

# Either magic at byte 4 (the sniff weighs the other kind as 'weak'): a file
# with neither, a NIfTI-1 file say, is refused without importing the sniffer.
_SINGLE_FIRST = ((layout.MAGIC_OFFSET, layout.SINGLE_MAGIC_ON_DISK),
                 (layout.MAGIC_OFFSET, layout.PAIR_MAGIC_ON_DISK))

NIFTI2 = FormatSpec(
    name="nifti2",
    image_class="voxelio_nifti2.image:Nifti2Image",
    extensions=layout.SINGLE_EXTENSIONS,
    files_types=layout.SINGLE_FILES_TYPES,
    magic=_SINGLE_FIRST,
    sniff=sniff_single,
    sniff_bytes=layout.HEADER_SIZE,
    sniff_trusted=True,  # fixed fields compared: bounded
    exports=_EXPORTS,
    dtypes=layout.DTYPES,
    nibabel_class="nibabel.nifti2:Nifti2Image",
    description="NIfTI-2 single file (.nii, magic n+2; CIFTI-2 containers too)",
)

NIFTI2_PAIR = FormatSpec(
    name="nifti2-pair",
    image_class="voxelio_nifti2.image:Nifti2Pair",
    extensions=layout.PAIR_EXTENSIONS,
    files_types=layout.PAIR_FILES_TYPES,
    magic=_SINGLE_FIRST[::-1],
    sniff=sniff_pair,
    sniff_bytes=layout.HEADER_SIZE,
    sniff_trusted=True,
    dtypes=layout.DTYPES,
    nibabel_class="nibabel.nifti2:Nifti2Pair",
    description="NIfTI-2 pair (.hdr + .img, magic ni2)",
)


@hookimpl
def voxelio_formats() -> list[FormatSpec]:
    """The NIfTI-2 single-file and pair formats."""
    return [NIFTI2, NIFTI2_PAIR]

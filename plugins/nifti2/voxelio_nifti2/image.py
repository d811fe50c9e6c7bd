"""NIfTI-2 images: the single ``.nii`` file and the ``.hdr``/``.img`` pair.

The images are voxelio-nifti1's with the NIfTI-2 header: lazy reading
(memory-mapped for an uncompressed file, so images with more than 2**31
voxels or axes longer than 32767 cost only what a slice reads), scaling,
the int64 policy, dtype aliases and the write flow are all NIfTI-1's.
CIFTI-2 containers load as :class:`Nifti2Image`; their XML extension is
kept byte for byte, and their brain-model axes are not interpreted.
"""

from __future__ import annotations

from typing import ClassVar

from voxelio_nifti1.header import Nifti1Header
from voxelio_nifti1.image import Nifti1Image, Nifti1Pair

from .header import Nifti2Header, Nifti2PairHeader


class Nifti2Pair(Nifti1Pair):
    """A NIfTI-2 image stored as a header (``.hdr``) and a data (``.img``) file.

    Parameters and behaviour are those of :class:`voxelio_nifti1.image.Nifti1Pair`.
    """

    header_class: ClassVar[type[Nifti1Header]] = Nifti2PairHeader


class Nifti2Image(Nifti1Image):
    """A NIfTI-2 image in one ``.nii`` file: header, extensions, then the data.

    Parameters and behaviour are those of :class:`voxelio_nifti1.image.Nifti1Image`.
    """

    header_class: ClassVar[type[Nifti1Header]] = Nifti2Header

"""voxelio-nifti2: the NIfTI-2 format (and CIFTI-2 containers) for voxelio.

``voxelio_nifti2.plugin`` is the entry module the registry loads (cheap: no
numpy, no reader code). ``_layout`` states the format's facts once (field
layout, magic strings, offsets, CIFTI codes) without numpy; ``header`` and
``image`` build on voxelio-nifti1, which NIfTI-2 extends field for field.

Importing this package imports nothing heavy; ``from voxelio_nifti2.image
import Nifti2Image`` gets the image classes.
"""

__version__ = "0.1.0"

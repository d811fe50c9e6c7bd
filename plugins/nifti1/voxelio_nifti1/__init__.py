"""voxelio-nifti1: the NIfTI-1 format for voxelio.

``voxelio_nifti1.plugin`` is the entry module the registry loads (cheap: no
numpy, no reader code). The format itself lives in ``header`` and ``image``;
``affines`` holds the quaternion maths, ``extensions`` the extension
records, ``codes`` the code tables of the standard.

Importing this package imports nothing heavy; ``from voxelio_nifti1.image
import Nifti1Image`` gets the image classes.
"""

__version__ = "0.1.0"

"""Deprecated name of :mod:`voxelio.openfiles` (opening an image's files).

Importing it warns; it goes in voxelio 0.3 (docs/api/deprecated.md).
"""

from __future__ import annotations

import warnings

from .openfiles import *  # noqa: F403
from .openfiles import __all__  # noqa: F401  (the star import exports these)
from .openfiles import save_compression as compression_for_name  # noqa: F401

warnings.warn(
    "voxelio.fileio is deprecated and will be removed in voxelio 0.3; import from "
    "voxelio.openfiles (compression_for_name is now save_compression)",
    DeprecationWarning,
    stacklevel=2,  # the import machinery's frames are skipped: the importer's line
)

"""Deprecated name of :mod:`voxelio.filemaps` (file holders, filespecs, file maps).

Importing it warns; it goes in voxelio 0.3 (docs/api/deprecated.md).
"""

from __future__ import annotations

import warnings

from .filemaps import *  # noqa: F403
from .filemaps import __all__  # noqa: F401  (the star import exports these)

warnings.warn(
    "voxelio.files is deprecated and will be removed in voxelio 0.3; "
    "import from voxelio.filemaps",
    DeprecationWarning,
    stacklevel=2,  # the import machinery's frames are skipped: the importer's line
)

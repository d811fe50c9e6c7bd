"""Deprecated name of :mod:`voxelio.filemaps` (file holders, filespecs, file maps)."""

from __future__ import annotations

import warnings

from .filemaps import *  # noqa: F403
from .filemaps import __all__  # noqa: F401  (the star import exports these)

warnings.warn(
    "voxelio.files is deprecated; import from voxelio.filemaps",
    DeprecationWarning,
    stacklevel=2,
)

"""The format registry: declarations, discovery, and dispatch.

Plugin authors need :class:`FormatSpec` (and perhaps :class:`MagicRule`,
:class:`SniffResult`); everything else here serves ``voxelio.load`` and
friends. Importing this package is cheap: it imports no plugin and no numpy.
"""

from .discovery import ENTRY_POINT_GROUP, PluginRecord
from .health import Cause, Health, PluginWarning, Status
from .spec import (
    API_VERSION,
    NO,
    WEAK,
    YES,
    FormatSpec,
    InvalidSpecError,
    MagicRule,
    SniffResult,
)
from .store import FormatEntry, Registry, get_registry, refresh

__all__ = [
    "API_VERSION",
    "ENTRY_POINT_GROUP",
    "NO",
    "WEAK",
    "YES",
    "Cause",
    "FormatEntry",
    "FormatSpec",
    "Health",
    "InvalidSpecError",
    "MagicRule",
    "PluginRecord",
    "PluginWarning",
    "Registry",
    "SniffResult",
    "Status",
    "get_registry",
    "refresh",
]

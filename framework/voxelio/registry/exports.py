"""Top-level attributes provided by plugins (``voxelio.Nifti1Image``).

A spec exports its image class under the class's own name, plus whatever
its ``exports`` mapping lists. ``voxelio.__getattr__`` calls
:func:`resolve_export` for names it does not define itself; the first call
triggers plugin discovery, and only the module that defines the requested
name is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .known import known_for_attribute
from .spec import resolve_ref
from .store import get_registry

if TYPE_CHECKING:
    from .discovery import PluginRecord


def export_table() -> dict[str, tuple[str, Any]]:
    """Attribute name -> (format name, reference) over usable formats.

    When two formats export the same name, the first by format name wins.
    """
    table: dict[str, tuple[str, Any]] = {}
    for entry in get_registry().ok_entries():
        for attr, ref in entry.spec.export_map.items():
            table.setdefault(attr, (entry.name, ref))
    return table


def resolve_export(name: str) -> Any:
    """The object a plugin exports as ``name``.

    Raises
    ------
    AttributeError
        If no usable plugin exports ``name``; the message names the
        distribution to install when a known plugin would provide it.
    """
    if name.startswith("_"):
        raise AttributeError(f"module 'voxelio' has no attribute {name!r}")
    found = export_table().get(name)
    if found is not None:
        return resolve_ref(found[1])
    message = f"module 'voxelio' has no attribute {name!r}"
    known = known_for_attribute(name)
    if known is not None:
        entry = get_registry().entries.get(known.name)
        record = _installed_plugin(known.distribution)
        if entry is not None:
            message += f"; format {known.name!r} that provides it is {entry.status}"
        elif record is not None:
            # installed, but switched off (VOXELIO_DISABLE_PLUGINS) or broken
            from .discovery import ENV_DISABLE  # here: only this message needs them
            from .health import Health

            why = record.status  # "disabled by VOXELIO_DISABLE_PLUGINS", "broken: ..."
            if record.state.health is Health.DISABLED:
                why += f" (take it out of {ENV_DISABLE} to use it)"
            message += (
                f"; it is provided by the plugin distribution {known.distribution!r}, "
                f"which is installed but {why}"
            )
        else:
            message += (
                f"; it is provided by the plugin distribution {known.distribution!r}, "
                f"which is not installed (pip install {known.distribution})"
            )
    raise AttributeError(message)


def _installed_plugin(distribution: str) -> PluginRecord | None:
    """The registry's record of a plugin of ``distribution`` that is not usable, if any."""
    from .discovery import _normalise_dist

    wanted = _normalise_dist(distribution)
    for record in get_registry().plugins:
        named = record.distribution and _normalise_dist(record.distribution) == wanted
        if named and not record.ok:
            return record
    return None

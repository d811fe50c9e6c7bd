"""``FormatInfo``: one row of :func:`voxelio.formats`, a format as users see it.

A module of its own so that loading an image never builds it: only
``voxelio.formats()`` (and ``voxelio formats``) need it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .health import OK, Status


@dataclass(frozen=True)
class FormatInfo:
    """One row of :func:`formats`: a format (or a plugin that provides none).

    Attributes
    ----------
    name : str
        Format name (for a broken or disabled plugin without formats, the
        plugin's name).
    distribution, version : str or None
        The distribution that provides it, when known.
    plugin : str
        Where it came from: entry point, VOXELIO_PLUGINS module, or runtime.
    image_class : str
        ``"module:attr"`` of the image class ('' when unknown).
    extensions : tuple of str
        Every suffix naming the format, compressed variants included.
    files_types : tuple of (str, str or None)
    dtypes : tuple of str
    can_read, can_write : bool
    status : str
        'ok', or why the format or its plugin is disabled or broken (the
        text of ``state``).
    description : str
    state : Status
        The same as data: ``state.health`` (a :class:`~voxelio.registry.health.Health`)
        and ``state.cause`` (what failed, with the exception type and message).
    """

    name: str
    distribution: str | None
    version: str | None
    plugin: str
    image_class: str = ""
    extensions: tuple[str, ...] = ()
    files_types: tuple[tuple[str, str | None], ...] = ()
    dtypes: tuple[str, ...] = ()
    can_read: bool = False
    can_write: bool = False
    status: str = "ok"
    description: str = ""
    state: Status = OK

    @property
    def ok(self) -> bool:
        """True when the format is usable."""
        return self.state.ok and self.status == "ok"

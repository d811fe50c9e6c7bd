"""Plugin and format health as data, and the one place that words failures.

A plugin or a format is in one :class:`Health` state; when it is not
usable, a :class:`Cause` says why (what failed, and the exception type and
message when an exception was the reason). :class:`Status` joins the two
and renders the strings users see (``'ok'``, ``'broken: cannot import
...'``, ``'disabled by VOXELIO_DISABLE_PLUGINS'``), so no module parses
those strings back.

The exception-describing helpers (:func:`describe_exception`,
:func:`one_line`) and the single warning per broken plugin
(:func:`warn_broken`) live here too.
"""

from __future__ import annotations

import enum
import os
import sys
import warnings
from typing import Any

from .._records import TupleRecord, field_at


class PluginWarning(UserWarning):
    """A plugin is broken; voxelio goes on without it."""


class Health(enum.Enum):
    """Whether a plugin or format can be used."""

    #: Usable.
    OK = "ok"
    #: Switched off on purpose (``VOXELIO_DISABLE_PLUGINS``).
    DISABLED = "disabled"
    #: Not used because another plugin already provides the same thing.
    SHADOWED = "shadowed"
    #: Not usable: an import, a hook, a sniff or a reader failed, or the
    #: declaration is invalid.
    BROKEN = "broken"


class Cause(TupleRecord):
    """Why a plugin or format is not usable.

    Attributes
    ----------
    summary : str
        What failed, in words (``'cannot import voxelio_x.plugin'``).
    error_type : str or None
        Name of the exception's type when an exception was the reason.
    error_message : str
        The exception's message on one line ('' when none).
    """

    __slots__ = ()
    _fields = ("summary", "error_type", "error_message")
    _field_defaults = {"error_type": None, "error_message": ""}
    summary = field_at(0, "What failed, in words.")
    error_type = field_at(1, "Name of the exception's type, or None.")
    error_message = field_at(2, "The exception's message on one line.")

    def __new__(cls, summary: str, error_type: str | None = None, error_message: str = ""):
        return tuple.__new__(cls, (summary, error_type, error_message))

    @classmethod
    def from_exception(cls, summary: str, exc: BaseException) -> Cause:
        """The cause ``summary`` with ``exc``'s type and one-line message."""
        return cls(summary, type(exc).__name__, one_line(str(exc)))

    def __str__(self) -> str:
        if self.error_type is None:
            return self.summary
        error = describe(self.error_type, self.error_message)
        if not self.summary:
            return error
        # "sniff raised ValueError: ..." reads better without a colon after "raised"
        sep = " " if self.summary.endswith(" raised") else ": "
        return f"{self.summary}{sep}{error}"


class Status(TupleRecord):
    """A health state with its cause; ``str()`` gives the text users see.

    Attributes
    ----------
    health : Health
    cause : Cause or None
        Why, when the state is not :attr:`Health.OK`.
    plugin : str or None
        For a format whose plugin is unusable: the plugin's name (the
        status is the plugin's, not the format's own).
    """

    __slots__ = ()
    _fields = ("health", "cause", "plugin")
    _field_defaults = {"cause": None, "plugin": None}
    health = field_at(0, "The state.")
    cause = field_at(1, "Why, when the state is not OK.")
    plugin = field_at(2, "The plugin whose status a format inherits, or None.")

    def __new__(cls, health: Health, cause: Cause | None = None, plugin: str | None = None):
        return tuple.__new__(cls, (health, cause, plugin))

    @property
    def ok(self) -> bool:
        """True when usable."""
        return self.health is Health.OK

    def inherited(self, plugin: str) -> Status:
        """This plugin status as seen by one of the plugin's formats."""
        return self._replace(plugin=plugin)

    def __str__(self) -> str:
        if self.health is Health.OK:
            return "ok"
        cause = str(self.cause) if self.cause is not None else ""
        if self.health is Health.DISABLED:
            text = f"disabled by {cause}" if cause else "disabled"
        else:
            text = f"{self.health.value}: {cause}" if cause else self.health.value
        return f"{text} (plugin {self.plugin!r})" if self.plugin else text


OK = Status(Health.OK)


def broken(summary: str, exc: BaseException | None = None) -> Status:
    """A :attr:`Health.BROKEN` status for ``summary`` (and ``exc``, if given)."""
    cause = Cause(summary) if exc is None else Cause.from_exception(summary, exc)
    return Status(Health.BROKEN, cause)


# -- words for failures ---------------------------------------------------------------
def describe(error_type: str, message: str) -> str:
    """``'TypeName: message'``, or the type name alone for an empty message."""
    return f"{error_type}: {message}" if message else error_type


def describe_exception(exc: BaseException) -> str:
    """``'TypeName: message'`` on one line, the form causes take in messages."""
    return describe(type(exc).__name__, one_line(str(exc)))


def one_line(text: str) -> str:
    """Join a multi-line message (a heading and '- item' lines) into one line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    items = [line.removeprefix("- ") for line in lines[1:]]
    return f"{lines[0].rstrip(':')}: " + "; ".join(items)


# -- one warning per plugin and cause -------------------------------------------------
_warned: set[tuple[str, str]] = set()


def warn_broken(label: str, cause: Cause | str, what: str = "is broken") -> None:
    """Issue the single :class:`PluginWarning` for plugin ``label`` and ``cause``.

    ``what`` says what is wrong (``'is broken'``, ``'is shadowed'``,
    ``'failed to read a file'``).
    """
    text = str(cause)
    key = (label, f"{what}: {text}")
    if key in _warned:
        return
    _warned.add(key)
    message = f"voxelio plugin {label} {what}: {text}"
    warnings.warn(message, PluginWarning, stacklevel=_caller_level())


def warn_once(label: str, key: str, message: str) -> None:
    """Issue ``message`` as a :class:`PluginWarning` once per plugin ``label`` and ``key``."""
    if (label, key) in _warned:
        return
    _warned.add((label, key))
    warnings.warn(message, PluginWarning, stacklevel=_caller_level())


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _caller_level() -> int:
    """``stacklevel`` that points a warning at the first frame outside voxelio."""
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level

"""The registry: every known format, the plugin it came from, and its health.

One :class:`Registry` is built lazily on first use (:func:`get_registry`)
and rebuilt by :func:`refresh`. Formats registered at run time
(:func:`add_runtime_format`) survive a refresh.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

from .. import hookspecs
from ..errors import VoxelioError
from .discovery import (
    SOURCE_RUNTIME,
    PluginRecord,
    call_impl,
    describe_exception,
    find_plugins,
    hook_functions,
    one_line,
    register,
    warn_broken,
)
from .spec import API_VERSION, FormatSpec, InvalidSpecError, validate_spec


@dataclass
class FormatEntry:
    """A format spec with its plugin and its own health."""

    spec: FormatSpec
    plugin: PluginRecord
    own_status: str = "ok"

    @property
    def name(self) -> str:
        """The format name."""
        return self.spec.name

    @property
    def status(self) -> str:
        """'ok', or why the format (or its plugin) is broken."""
        if self.own_status != "ok":
            return self.own_status
        if not self.plugin.ok:
            return f"{self.plugin.status} (plugin {self.plugin.name!r})"
        return "ok"

    @property
    def ok(self) -> bool:
        """True when the format can be used."""
        return self.status == "ok"


class Registry:
    """Formats by name, the plugins that provide them, and their hooks.

    Parameters
    ----------
    environ : mapping, optional
        Environment to read ``VOXELIO_PLUGINS`` and
        ``VOXELIO_DISABLE_PLUGINS`` from (default ``os.environ``).
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: list[PluginRecord] = []
        self.entries: dict[str, FormatEntry] = {}
        self.runtime = PluginRecord(name="runtime", module=None, source=SOURCE_RUNTIME)
        self._environ = environ

    # -- building --------------------------------------------------------------
    def build(self, runtime_specs: Mapping[str, FormatSpec] = ()) -> Registry:
        """Discover plugins, collect their specs, then add runtime formats."""
        for record in find_plugins(self._environ):
            self.plugins.append(record)
            register(self.pm, record)
            if record.ok:
                self._collect(record)
            elif not record.status.startswith("disabled"):
                warn_broken(record, record.status.removeprefix("broken: "))
        for spec in dict(runtime_specs).values():
            self.adopt(spec, self.runtime, replace=True)
        return self

    def _collect(self, record: PluginRecord) -> None:
        specs: list[Any] = []
        try:
            for impl in hook_functions(self.pm, "voxelio_formats", record):
                specs.extend(call_impl(impl, {}) or ())
        except Exception as exc:
            self.mark_broken(record, f"voxelio_formats() raised {describe_exception(exc)}")
            return
        bad = [s for s in specs if not isinstance(s, FormatSpec)]
        if bad:
            self.mark_broken(record, f"voxelio_formats() returned {bad[0]!r}, not a FormatSpec")
            return
        for spec in specs:
            try:
                self.adopt(spec, record)
            except InvalidSpecError as exc:
                entry = FormatEntry(spec, record, own_status=f"broken: {one_line(str(exc))}")
                self.entries.setdefault(spec.name, entry)
                warn_broken(record, one_line(str(exc)))

    def adopt(self, spec: FormatSpec, record: PluginRecord, replace: bool = False) -> FormatEntry:
        """Add ``spec`` as provided by ``record``.

        A spec for another plugin API version, or with problems only numpy
        can see, is kept but marked broken (with a warning).

        Raises
        ------
        InvalidSpecError
            If another plugin already provides a format of that name and
            ``replace`` is false.
        """
        existing = self.entries.get(spec.name)
        if existing is not None and not replace and existing.plugin is not record:
            raise InvalidSpecError(
                f"format {spec.name!r} is already provided by {existing.plugin.label}"
            )
        entry = FormatEntry(spec, record)
        problems = []
        if spec.api_version != API_VERSION:
            problems.append(
                f"written for plugin API version {spec.api_version}; "
                f"this voxelio speaks version {API_VERSION}"
            )
        problems.extend(validate_spec(spec))
        if problems:
            entry.own_status = "broken: " + "; ".join(problems)
            warn_broken(record, f"format {spec.name!r}: " + "; ".join(problems))
        self.entries[spec.name] = entry
        return entry

    def remove(self, name: str) -> FormatEntry:
        """Forget the format ``name``; raises KeyError when unknown."""
        return self.entries.pop(name)

    # -- health ----------------------------------------------------------------
    def mark_broken(self, record: PluginRecord, cause: str) -> None:
        """Mark a plugin broken for this session, warning once."""
        if record.source == SOURCE_RUNTIME:
            # runtime formats have no plugin to blame as a whole
            for entry in self.entries.values():
                if entry.plugin is record and entry.own_status == "ok":
                    entry.own_status = f"broken: {cause}"
            warn_broken(record, cause)
            return
        if record.ok:
            record.status = f"broken: {cause}"
        warn_broken(record, cause)

    def mark_format_broken(self, entry: FormatEntry, cause: str) -> None:
        """Mark one format (and its plugin, unless runtime) broken."""
        if entry.plugin.source == SOURCE_RUNTIME:
            entry.own_status = f"broken: {cause}"
            warn_broken(entry.plugin, f"format {entry.name!r}: {cause}")
        else:
            self.mark_broken(entry.plugin, f"format {entry.name!r}: {cause}")

    # -- queries -----------------------------------------------------------------
    def ok_entries(self) -> list[FormatEntry]:
        """Usable formats, sorted by name."""
        return [e for _, e in sorted(self.entries.items()) if e.ok]

    def broken_plugins(self) -> list[PluginRecord]:
        """Plugins that are broken (not merely disabled)."""
        return [p for p in self.plugins if not p.ok and not p.status.startswith("disabled")]

    def supersede_depth(self, name: str) -> int:
        """Length of the longest ``supersedes`` chain below ``name``.

        Turns the ``supersedes`` relation into a number that ranks a format
        above every format it (transitively) refines; cycles are cut.
        """
        return self._depth(name, frozenset())

    def _depth(self, name: str, seen: frozenset[str]) -> int:
        entry = self.entries.get(name)
        if entry is None or name in seen:
            return 0
        below = [s for s in entry.spec.supersedes if s in self.entries]
        return max((1 + self._depth(s, seen | {name}) for s in below), default=0)

    # -- hooks -------------------------------------------------------------------
    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[PluginRecord, Any]]:
        """Call every healthy plugin's implementation of ``hook_name`` on its own.

        A :class:`VoxelioError` propagates (a deliberate refusal); any other
        exception marks that plugin broken and the others still run.

        Returns
        -------
        list of (PluginRecord, result)
        """
        results = []
        for record in self.plugins:
            if not record.ok:
                continue
            for impl in hook_functions(self.pm, hook_name, record):
                try:
                    results.append((record, call_impl(impl, kwargs)))
                except VoxelioError:
                    raise
                except Exception as exc:
                    self.mark_broken(record, f"{hook_name}() raised {describe_exception(exc)}")
        return results


# -- the process-wide registry ------------------------------------------------------
_lock = threading.RLock()
_registry: Registry | None = None
_runtime_specs: dict[str, FormatSpec] = {}


def get_registry() -> Registry:
    """The registry, built on first call (entry-point scan and plugin import)."""
    global _registry
    reg = _registry
    if reg is not None:
        return reg
    with _lock:
        if _registry is None:
            _registry = Registry().build(_runtime_specs)
        return _registry


def refresh() -> Registry:
    """Forget every discovered plugin and discover again (keeps runtime formats).

    Use after installing a plugin in a running session. Plugin modules
    already imported stay imported.
    """
    global _registry
    with _lock:
        _registry = None
        return get_registry()


def add_runtime_format(spec: FormatSpec, replace: bool = False) -> FormatEntry:
    """Register ``spec`` in-process; it survives :func:`refresh`.

    A runtime format replaces an earlier runtime format of the same name
    (re-running a notebook cell); replacing a plugin's format needs
    ``replace=True``.
    """
    with _lock:
        reg = get_registry()
        existing = reg.entries.get(spec.name)
        if existing is not None and existing.plugin.source == SOURCE_RUNTIME:
            replace = True
        entry = reg.adopt(spec, reg.runtime, replace=replace)
        _runtime_specs[spec.name] = spec
        return entry


def remove_format(name: str) -> FormatSpec:
    """Remove the format ``name`` (plugin-provided ones until the next refresh).

    Raises
    ------
    KeyError
        If no format has that name.
    """
    with _lock:
        reg = get_registry()
        _runtime_specs.pop(name, None)
        return reg.remove(name).spec

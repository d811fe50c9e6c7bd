"""The registry: every known format, the plugin it came from, and its health.

One :class:`Registry` is built lazily on first use (:func:`get_registry`)
and rebuilt by :func:`refresh`. Formats registered at run time
(:func:`add_runtime_format`) survive a refresh.
"""

from __future__ import annotations

# _thread, not threading: the locks are the same, and importing threading costs
# every process about a millisecond it may never need
import _thread
import os
from collections.abc import Mapping
from typing import Any

from ..errors import VoxelioError
from .discovery import (
    SOURCE_RUNTIME,
    PluginRecord,
    entry_points,
    find_plugins,
    load_reference,
)
from .health import OK, Cause, Health, Status, broken, one_line, warn_broken
from .spec import API_VERSION, FormatSpec, InvalidSpecError


class FormatEntry:
    """A format spec with its plugin and its own health.

    Attributes
    ----------
    spec : FormatSpec
    plugin : PluginRecord
        The plugin that provides it.
    own_state : Status
        The format's own health (its plugin's is ``plugin.state``).
    """

    __slots__ = ("own_state", "plugin", "spec")

    def __init__(self, spec: FormatSpec, plugin: PluginRecord, own_state: Status = OK) -> None:
        self.spec, self.plugin, self.own_state = spec, plugin, own_state

    def __repr__(self) -> str:
        return f"FormatEntry({self.name!r}, {self.plugin.label}, {self.status!r})"

    @property
    def name(self) -> str:
        """The format name."""
        return self.spec.name

    @property
    def state(self) -> Status:
        """The format's health: its own, else its plugin's when that is not ok."""
        if not self.own_state.ok:
            return self.own_state
        if not self.plugin.ok:
            return self.plugin.state.inherited(self.plugin.name)
        return OK

    @property
    def status(self) -> str:
        """'ok', or why the format (or its plugin) is broken (the text of :attr:`state`)."""
        return str(self.state)

    @property
    def ok(self) -> bool:
        """True when the format can be used."""
        # what ``state.ok`` says, without building the inherited status (every load asks)
        return self.own_state.health is Health.OK and self.plugin.state.health is Health.OK


class Registry:
    """Formats by name, the plugins that provide them, and their hooks.

    Parameters
    ----------
    environ : mapping, optional
        Environment to read ``VOXELIO_PLUGINS`` and
        ``VOXELIO_DISABLE_PLUGINS`` from (default ``os.environ``).

    Attributes
    ----------
    plugins : list of PluginRecord
        Every plugin found, in discovery order, usable or not.
    entries : dict of str to FormatEntry
        Formats by name.
    shadowed : list of FormatEntry
        Formats not adopted because an earlier plugin provides the same
        name (shown by ``voxelio formats``, never used).
    hooks : PluginHooks
        The pluggy plugin manager and per-plugin hook calls.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.plugins: list[PluginRecord] = []
        self.entries: dict[str, FormatEntry] = {}
        self.shadowed: list[FormatEntry] = []
        self.runtime = PluginRecord(name="runtime", module=None, source=SOURCE_RUNTIME)
        self._environ = environ
        self._hooks: Any = None
        # plugins known from the discovery cache, imported only when a hook must run
        self._pending: list[PluginRecord] = []
        self._cached_hooks: dict[int, tuple[str, ...]] = {}

    @property
    def hooks(self) -> Any:
        """The :class:`~voxelio.registry.hooks.PluginHooks` (pluggy is imported here,
        and plugins known from the discovery cache are imported and registered)."""
        if self._hooks is None:
            from .hooks import PluginHooks

            self._hooks = PluginHooks()
            pending, self._pending = self._pending, []
            for record in pending:
                try:
                    record.plugin = load_reference(record.ref or "")
                except Exception as exc:
                    cause = Cause.from_exception(f"cannot import {record.ref}", exc)
                    self.mark_broken(record, cause)
                    continue
                self._hooks.register(record)
                self._report(record)
        return self._hooks

    @property
    def pm(self) -> Any:
        """The pluggy ``PluginManager`` (for tracing and monitoring)."""
        return self.hooks.pm

    # -- building --------------------------------------------------------------
    def build(self, runtime_specs: Mapping[str, FormatSpec] = (), cached: bool = True) -> Registry:
        """Discover plugins, collect their specs, then add runtime formats.

        With ``cached`` (the default), a valid stored discovery result
        (:mod:`.cache`) stands in for importing the plugins; either way a
        fresh result is stored for the next process.
        """
        from . import cache

        environ = os.environ if self._environ is None else self._environ
        caching = cache.cache_dir() is not None
        quick = cache.quick_key(environ) if caching else None
        # found by the quick key, a stored result spares reading every
        # distribution's entry points
        stored = cache.read(quick, by="quick") if cached and quick is not None else None
        if stored is None or not self._replay(stored):
            self._reset()
            eps = entry_points()
            key = cache.fingerprint(environ, eps) if caching else None
            stored = cache.read(key) if cached and key is not None else None
            # the quick key missed: a folder on sys.path changed, perhaps by a
            # module made there that now shadows a stored plugin's
            if stored is None or not cache.origins_hold(stored) or not self._replay(stored):
                self._reset()
                self._discover(key, eps, quick)
            elif quick is not None:
                # sys.path folders changed but not what was installed: the next
                # process finds the result without reading entry points
                cache.remember_quick(stored, quick)
        for spec in dict(runtime_specs).values():
            self.adopt(spec, self.runtime, replace=True)
        return self

    def _reset(self) -> None:
        """Forget what a stored result that no longer holds put here."""
        self.plugins.clear()
        self.entries.clear()
        self.shadowed.clear()
        self._pending.clear()
        self._cached_hooks.clear()

    def _discover(self, key: tuple | None, eps: list[Any], quick: tuple | None = None) -> None:
        from . import cache

        hooks = self.hooks
        items: list[dict] | None = [] if key is not None else None
        # the distributions that declare the plugins are watched: an edit to
        # one in place is seen even by a lookup with the quick key
        files: list[str] = cache.declaring_files(eps)
        for record in find_plugins(self._environ, eps):
            self.plugins.append(record)
            hooks.register(record)
            self._report(record)
            specs = self._collect(record) if record.ok else []
            if items is not None:
                item = _cache_item(record, specs, hooks)
                items = None if item is None else [*items, item]
                files += cache.package_files(record.module)
        if items is not None and key is not None:
            cache.write(key, items, files, quick)

    def _replay(self, stored: dict) -> bool:
        """Take plugins and specs from a stored discovery; False if it no longer holds."""
        from .cache import decode_spec

        try:
            records = [(_record_from(item), item) for item in stored["plugins"]]
            for record, item in records:
                if item["retry"]:
                    try:  # a plugin whose import failed may have been fixed since
                        load_reference(record.ref or "")
                    except Exception as exc:
                        record.state = broken(f"cannot import {record.ref}", exc)
                    else:
                        return False
            specs = [[decode_spec(d) for d in item["specs"]] for _, item in records]
        except Exception:  # a stored result this voxelio cannot read: discover again
            return False
        for (record, item), record_specs in zip(records, specs, strict=True):
            self.plugins.append(record)
            self._report(record)
            if record.ok:
                self._pending.append(record)
                self._cached_hooks[id(record)] = tuple(item["hooks"])
                self._adopt_all(record, record_specs, item["checked"])
        return True

    def _report(self, record: PluginRecord) -> None:
        if record.state.health is Health.SHADOWED:
            warn_broken(record.label, record.state.cause or "", "is shadowed")
        elif record.state.health is Health.BROKEN:
            warn_broken(record.label, record.state.cause or "")

    def _collect(self, record: PluginRecord) -> list[FormatSpec]:
        specs: list[Any] = []
        try:
            for result in self.hooks.call("voxelio_formats", record, {}):
                specs.extend(result or ())
        except Exception as exc:
            self.mark_broken(record, Cause.from_exception("voxelio_formats() raised", exc))
            return []
        bad = [s for s in specs if not isinstance(s, FormatSpec)]
        if bad:
            why = f"voxelio_formats() returned {bad[0]!r}, not a FormatSpec"
            self.mark_broken(record, Cause(why))
            return []
        self._adopt_all(record, specs)
        return specs

    def _adopt_all(
        self,
        record: PluginRecord,
        specs: list[FormatSpec],
        checked: list[list[str]] | None = None,
    ) -> None:
        for i, spec in enumerate(specs):
            try:
                self.adopt(spec, record, checked=None if checked is None else list(checked[i]))
            except InvalidSpecError as exc:
                cause = Cause(one_line(str(exc)))
                self.shadowed.append(FormatEntry(spec, record, Status(Health.SHADOWED, cause)))
                warn_broken(record.label, cause, "is shadowed")

    def adopt(
        self,
        spec: FormatSpec,
        record: PluginRecord,
        replace: bool = False,
        checked: list[str] | None = None,
    ) -> FormatEntry:
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
        # ``checked``: what validate_spec said when the discovery cache stored the spec
        if checked is None:
            from .validation import validate_spec  # a cached discovery stored the answer

            checked = validate_spec(spec)
        problems.extend(checked)
        if problems:
            entry.own_state = broken("; ".join(problems))
            warn_broken(record.label, f"format {spec.name!r}: " + "; ".join(problems))
        self.entries[spec.name] = entry
        return entry

    def remove(self, name: str) -> FormatEntry:
        """Forget the format ``name``; raises KeyError when unknown."""
        return self.entries.pop(name)

    # -- health ----------------------------------------------------------------
    def mark_broken(self, record: PluginRecord, cause: Cause) -> None:
        """Mark a plugin broken for this session, warning once."""
        if record.source == SOURCE_RUNTIME:
            # runtime formats have no plugin to blame as a whole
            for entry in self.entries.values():
                if entry.plugin is record and entry.own_state.ok:
                    entry.own_state = Status(Health.BROKEN, cause)
            warn_broken(record.label, cause)
            return
        if record.ok:
            record.state = Status(Health.BROKEN, cause)
        warn_broken(record.label, cause)

    def mark_format_broken(self, entry: FormatEntry, cause: Cause) -> None:
        """Mark one format (and its plugin, unless runtime) broken."""
        in_format = cause._replace(summary=f"format {entry.name!r}: {cause.summary}")
        if entry.plugin.source == SOURCE_RUNTIME:
            entry.own_state = Status(Health.BROKEN, cause)
            warn_broken(entry.plugin.label, in_format)
        else:
            self.mark_broken(entry.plugin, in_format)

    # -- queries -----------------------------------------------------------------
    def ok_entries(self) -> list[FormatEntry]:
        """Usable formats, sorted by name."""
        return [e for _, e in sorted(self.entries.items()) if e.ok]

    def runtime_formats(self) -> list[str]:
        """Names of the formats registered in this process (``register_format``), sorted.

        What to ``unregister_format`` to undo a script's or a notebook's
        registrations (they survive :func:`refresh`; plugins' formats come back).
        """
        return sorted(name for name, e in self.entries.items() if e.plugin is self.runtime)

    def broken_plugins(self) -> list[PluginRecord]:
        """Plugins that are broken (not merely disabled or shadowed)."""
        return [p for p in self.plugins if p.state.health is Health.BROKEN]

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
        """Call every healthy plugin's implementations of ``hook_name``, one plugin at a time.

        Plugins are called in pluggy's order (``tryfirst``/``trylast``
        respected); each plugin's call goes through pluggy, wrappers
        included. A :class:`VoxelioError` propagates (a deliberate refusal);
        any other exception marks that plugin broken and the others still run.

        Returns
        -------
        list of (PluginRecord, result)
        """
        results: list[tuple[PluginRecord, Any]] = []
        healthy = [r for r in self.plugins if r.ok]
        if self._hooks is None and not any(
            hook_name in self._cached_hooks.get(id(r), ()) for r in healthy
        ):
            return results  # known from the cache: no plugin implements it
        for record in self.hooks.call_order(hook_name, healthy):
            try:
                results += [(record, r) for r in self.hooks.call(hook_name, record, kwargs)]
            except VoxelioError:
                raise
            except Exception as exc:
                self.mark_broken(record, Cause.from_exception(f"{hook_name}() raised", exc))
        return results


def _cache_item(record: PluginRecord, specs: list[FormatSpec], hooks: Any) -> dict | None:
    """``record`` and its specs as data for the discovery cache (None: not storable)."""
    from . import cache
    from .cache import encode_spec

    encoded = [encode_spec(spec) for spec in specs]
    if any(e is None for e in encoded):
        return None
    state = record.state
    return {
        "name": record.name,
        "module": record.module,
        "source": record.source,
        "distribution": record.distribution,
        "version": record.version,
        "ref": record.ref,
        "health": state.health.value,
        "cause": tuple(state.cause) if state.cause is not None else None,
        # an import that failed is tried again in every process
        "retry": state.health is Health.BROKEN and record.plugin is None,
        "hooks": hooks.implemented(record),
        "origin": cache.module_origin(record.module),
        "specs": encoded,
        "checked": [tuple(_validate(spec)) for spec in specs],
    }


def _record_from(item: dict) -> PluginRecord:
    cause = Cause(*item["cause"]) if item["cause"] is not None else None
    return PluginRecord(
        item["name"], item["module"], item["source"], item["distribution"], item["version"],
        state=Status(Health(item["health"]), cause), ref=item["ref"],
    )


# -- the process-wide registry ------------------------------------------------------
_lock = _thread.RLock()
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
        _registry = Registry().build(_runtime_specs, cached=False)
        return _registry


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


def _validate(spec: FormatSpec) -> list[str]:
    from .validation import validate_spec

    return validate_spec(spec)

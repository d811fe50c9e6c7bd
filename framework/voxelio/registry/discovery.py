"""Finding plugins: entry points, ``VOXELIO_PLUGINS``, ``VOXELIO_DISABLE_PLUGINS``.

Each plugin is loaded inside its own ``try`` so that one broken plugin
cannot hide the others (``pluggy``'s ``load_setuptools_entrypoints`` stops
at the first failure, which is why it is not used). Only ``Exception`` is
caught: ``KeyboardInterrupt`` and ``SystemExit`` always propagate.

Environment variables (read at each discovery):

``VOXELIO_PLUGINS``
    Comma-separated module names (``"my_lab.voxelio_plugin,other.mod"``)
    loaded as plugins in addition to the entry points; no packaging needed.
``VOXELIO_DISABLE_PLUGINS``
    Comma-separated tokens; an entry-point plugin is skipped when a token
    equals its entry-point name, its module, or its distribution name.
    ``*`` skips every entry-point plugin.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

ENTRY_POINT_GROUP = "voxelio.plugins"
ENV_PLUGINS = "VOXELIO_PLUGINS"
ENV_DISABLE = "VOXELIO_DISABLE_PLUGINS"

SOURCE_ENTRY_POINT = "entry point"
SOURCE_ENV = ENV_PLUGINS
SOURCE_RUNTIME = "runtime"


class PluginWarning(UserWarning):
    """A plugin is broken; voxelio goes on without it."""


@dataclass
class PluginRecord:
    """One plugin as discovery found it.

    Attributes
    ----------
    name : str
        Entry-point name, module name (``VOXELIO_PLUGINS``) or ``'runtime'``.
    module : str or None
        The plugin module's import name.
    source : str
        'entry point', 'VOXELIO_PLUGINS' or 'runtime'.
    distribution, version : str or None
        The installed distribution providing it, when known.
    status : str
        'ok', 'disabled by ...', or 'broken: <cause>'.
    plugin : object or None
        The loaded plugin object (module), once loaded.
    """

    name: str
    module: str | None
    source: str
    distribution: str | None = None
    version: str | None = None
    status: str = "ok"
    plugin: Any = None

    @property
    def ok(self) -> bool:
        """True unless the plugin is disabled or broken."""
        return self.status == "ok"

    @property
    def label(self) -> str:
        """How messages name the plugin: distribution and entry point or module."""
        if self.distribution:
            return f"{self.distribution} ({self.source} {self.name!r})"
        return f"{self.name!r} ({self.source})"


_warned: set[tuple[str, str]] = set()


def warn_broken(record: PluginRecord, cause: str) -> None:
    """Issue the single :class:`PluginWarning` for this plugin and cause."""
    key = (record.label, cause)
    if key in _warned:
        return
    _warned.add(key)
    message = f"voxelio plugin {record.label} is broken: {cause}"
    warnings.warn(message, PluginWarning, stacklevel=_caller_level())


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _caller_level() -> int:
    """``stacklevel`` that points a warning at the first frame outside voxelio."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


def describe_exception(exc: BaseException) -> str:
    """``'TypeName: message'`` on one line, the form causes take in messages."""
    text = one_line(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def one_line(text: str) -> str:
    """Join a multi-line message (a heading and '- item' lines) into one line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    items = [line.removeprefix("- ") for line in lines[1:]]
    return f"{lines[0].rstrip(':')}: " + "; ".join(items)


def _split_env(value: str | None) -> list[str]:
    return [token.strip() for token in (value or "").split(",") if token.strip()]


def _normalise_dist(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _is_disabled(ep: Any, dist_name: str | None, tokens: list[str]) -> bool:
    names = {ep.name, ep.value, ep.value.partition(":")[0]}
    if dist_name:
        names.add(_normalise_dist(dist_name))
    return any(t == "*" or t in names or _normalise_dist(t) in names for t in tokens)


def _entry_points() -> list[Any]:
    found = _scan_entry_points(ENTRY_POINT_GROUP)
    if found is None:  # an installation layout the quick scan does not read
        from importlib_metadata import entry_points

        found = list(entry_points(group=ENTRY_POINT_GROUP))
    return sorted(found, key=lambda ep: (ep.name, ep.value))


class _Dist:
    """An installed distribution's name and version, read from its metadata file."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._meta: tuple[str | None, str | None] | None = None

    def _read(self) -> tuple[str | None, str | None]:
        if self._meta is None:
            name = version = None
            for fname in ("METADATA", "PKG-INFO"):
                try:
                    with open(os.path.join(self._path, fname), encoding="utf-8",
                              errors="replace") as f:
                        for line in f:
                            if not line.strip():
                                break  # the headers end at the first blank line
                            key, _, value = line.partition(":")
                            if key == "Name" and name is None:
                                name = value.strip()
                            elif key == "Version" and version is None:
                                version = value.strip()
                except OSError:
                    continue
                break
            self._meta = (name, version)
        return self._meta

    @property
    def name(self) -> str | None:
        return self._read()[0]

    @property
    def version(self) -> str | None:
        return self._read()[1]


class _EntryPoint:
    """``name = module[:attr]`` from a distribution's ``entry_points.txt``."""

    def __init__(self, name: str, value: str, dist: _Dist) -> None:
        self.name, self.value, self.dist = name, value, dist

    def load(self) -> Any:
        module, _, attr = self.value.partition("[")[0].partition(":")
        obj = importlib.import_module(module.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def _scan_entry_points(group: str) -> list[Any] | None:
    """The entry points of ``group`` in the ``*.dist-info``/``*.egg-info`` folders on sys.path.

    The same search importlib-metadata makes (the first distribution of a
    name on sys.path wins), without importing it and the email parser:
    discovery runs in every process that loads an image. None when sys.path
    holds something other than folders (zip files, eggs).
    """
    seen: set[str] = set()
    found: list[Any] = []
    for entry in sys.path:
        folder = entry or "."
        try:
            names = sorted(os.listdir(folder))
        except NotADirectoryError:
            return None
        except OSError:
            continue
        for dname in names:
            if not dname.endswith((".dist-info", ".egg-info")):
                continue
            key = _normalise_dist(dname.rpartition(".")[0].partition("-")[0])
            path = os.path.join(folder, dname)
            if key in seen or not os.path.isdir(path):
                continue
            seen.add(key)
            try:
                with open(os.path.join(path, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            found.extend(_parse_entry_points(text, group, _Dist(path)))
    return found


def _parse_entry_points(text: str, group: str, dist: _Dist) -> list[Any]:
    section = None
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            out.append(_EntryPoint(name.strip(), value.strip(), dist))
    return out


def _load_entry_point(ep: Any, tokens: list[str]) -> PluginRecord:
    dist = getattr(ep, "dist", None)
    record = PluginRecord(
        name=ep.name,
        module=ep.value.partition(":")[0],
        source=SOURCE_ENTRY_POINT,
        distribution=getattr(dist, "name", None),
        version=getattr(dist, "version", None),
    )
    if _is_disabled(ep, record.distribution, tokens):
        record.status = f"disabled by {ENV_DISABLE}"
        return record
    try:
        record.plugin = ep.load()
    except Exception as exc:
        record.status = f"broken: cannot import {ep.value}: {describe_exception(exc)}"
    return record


def _load_env_module(spec: str) -> PluginRecord:
    from .spec import resolve_ref

    module = spec.partition(":")[0]
    record = PluginRecord(name=spec, module=module, source=SOURCE_ENV)
    try:
        record.plugin = resolve_ref(spec) if ":" in spec else importlib.import_module(spec)
    except Exception as exc:
        record.status = f"broken: cannot import {spec}: {describe_exception(exc)}"
    return record


def find_plugins(environ: Mapping[str, str] | None = None) -> Iterator[PluginRecord]:
    """Load every plugin: entry points (sorted by name), then ``VOXELIO_PLUGINS``.

    Yields records in a deterministic order; broken and disabled plugins are
    yielded too, with their status saying why.
    """
    env = os.environ if environ is None else environ
    tokens = _split_env(env.get(ENV_DISABLE))
    for ep in _entry_points():
        yield _load_entry_point(ep, tokens)
    for spec in _split_env(env.get(ENV_PLUGINS)):
        yield _load_env_module(spec)


def register(pm: pluggy.PluginManager, record: PluginRecord) -> None:
    """Register a loaded plugin with pluggy, marking the record broken on failure."""
    if not record.ok or record.plugin is None:
        return
    if pm.is_registered(record.plugin):
        # the same module reached twice (entry point and VOXELIO_PLUGINS)
        record.status = "broken: duplicate of an already registered plugin module"
        return
    try:
        pm.register(record.plugin, name=f"{record.source}:{record.name}")
    except Exception as exc:
        record.status = f"broken: rejected by the plugin manager: {describe_exception(exc)}"


def hook_functions(pm: pluggy.PluginManager, hook_name: str, record: PluginRecord) -> list[Any]:
    """The implementations of ``hook_name`` that ``record``'s plugin provides."""
    caller = getattr(pm.hook, hook_name, None)
    if caller is None or record.plugin is None:
        return []
    return [impl for impl in caller.get_hookimpls() if impl.plugin is record.plugin]


def call_impl(impl: Any, kwargs: Mapping[str, Any]) -> Any:
    """Call one pluggy hook implementation with the arguments it asks for."""
    return impl.function(*[kwargs[name] for name in impl.argnames])

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
from collections.abc import Iterator, Mapping
from typing import Any

from .health import (  # noqa: F401  (PluginWarning and the helpers: public here since 0.1)
    OK,
    Cause,
    Health,
    PluginWarning,
    Status,
    broken,
    describe_exception,
    one_line,
)

ENTRY_POINT_GROUP = "voxelio.plugins"
ENV_PLUGINS = "VOXELIO_PLUGINS"
ENV_DISABLE = "VOXELIO_DISABLE_PLUGINS"

SOURCE_ENTRY_POINT = "entry point"
SOURCE_ENV = ENV_PLUGINS
SOURCE_RUNTIME = "runtime"


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
    state : Status
        Health and cause; ``status`` is its text.
    plugin : object or None
        The loaded plugin object (module), once loaded.
    ref : str or None
        What loads the plugin: ``module[:attr]``.
    """

    __slots__ = ("distribution", "module", "name", "plugin", "ref", "source", "state", "version")

    def __init__(
        self,
        name: str,
        module: str | None,
        source: str,
        distribution: str | None = None,
        version: str | None = None,
        state: Status = OK,
        plugin: Any = None,
        ref: str | None = None,
    ) -> None:
        self.name, self.module, self.source = name, module, source
        self.distribution, self.version = distribution, version
        self.state, self.plugin, self.ref = state, plugin, ref

    def __repr__(self) -> str:
        return f"PluginRecord({self.name!r}, {self.module!r}, {self.source!r}, {self.status!r})"

    @property
    def status(self) -> str:
        """'ok', 'disabled by ...', or 'broken: <cause>' (the text of :attr:`state`)."""
        return str(self.state)

    @property
    def ok(self) -> bool:
        """True unless the plugin is disabled, shadowed or broken."""
        return self.state.ok

    @property
    def label(self) -> str:
        """How messages name the plugin: distribution and entry point or module."""
        if self.distribution:
            return f"{self.distribution} ({self.source} {self.name!r})"
        return f"{self.name!r} ({self.source})"


def _split_env(value: str | None) -> list[str]:
    return [token.strip() for token in (value or "").split(",") if token.strip()]


def _normalise_dist(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _is_disabled(ep: Any, dist_name: str | None, tokens: list[str]) -> bool:
    names = {ep.name, ep.value, ep.value.partition(":")[0]}
    if dist_name:
        names.add(_normalise_dist(dist_name))
    return any(t == "*" or t in names or _normalise_dist(t) in names for t in tokens)


def entry_points() -> list[Any]:
    """The ``voxelio.plugins`` entry points installed on sys.path, sorted."""
    return _entry_points()


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
        return load_reference(self.value)


def load_reference(value: str) -> Any:
    """Import ``module[:attr.path]`` (an entry point's value, extras ignored)."""
    module, _, attr = value.partition("[")[0].partition(":")
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
        ref=ep.value,
    )
    if _is_disabled(ep, record.distribution, tokens):
        record.state = Status(Health.DISABLED, Cause(ENV_DISABLE))
        return record
    try:
        record.plugin = ep.load()
    except Exception as exc:
        record.state = broken(f"cannot import {ep.value}", exc)
    return record


def _load_env_module(spec: str) -> PluginRecord:
    module = spec.partition(":")[0]
    record = PluginRecord(name=spec, module=module, source=SOURCE_ENV, ref=spec)
    try:
        record.plugin = load_reference(spec)
    except Exception as exc:
        record.state = broken(f"cannot import {spec}", exc)
    return record


def find_plugins(
    environ: Mapping[str, str] | None = None, entry_points: list[Any] | None = None
) -> Iterator[PluginRecord]:
    """Load every plugin: entry points (sorted by name), then ``VOXELIO_PLUGINS``.

    Yields records in a deterministic order; broken and disabled plugins are
    yielded too, with their state saying why. ``entry_points`` defaults to
    :func:`entry_points`.
    """
    env = os.environ if environ is None else environ
    tokens = _split_env(env.get(ENV_DISABLE))
    for ep in entry_points if entry_points is not None else _entry_points():
        yield _load_entry_point(ep, tokens)
    for spec in _split_env(env.get(ENV_PLUGINS)):
        yield _load_env_module(spec)

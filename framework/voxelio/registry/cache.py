"""A validated cache of discovery results, so a fresh process imports no plugin
module (and not pluggy) until one is needed.

What discovery learns (every plugin's health, its format specs, which hooks
it implements) is stored in the user's cache folder, keyed on everything
that can change it:

- voxelio's version, the plugin API version and the Python version;
- ``VOXELIO_PLUGINS`` and ``VOXELIO_DISABLE_PLUGINS`` as the registry reads them;
- every ``voxelio.plugins`` entry point (name, value, and the distribution
  folder, whose name holds the version), read from the metadata on sys.path
  as discovery reads it (under a millisecond);
- ``sys.path`` (the modification times of its folders are in the quick key
  below: the entry points themselves are in this one);
- the size and modification time of every module file a plugin's import
  loaded from the plugin's own package, and of voxelio's registry modules.

Reading the entry points means looking into every installed distribution
(milliseconds in an environment of a few hundred). So a stored result is
first looked up by a *quick key* (:func:`quick_key`): the same items
without the entry points but with the modification time of every folder on
``sys.path``, when every one is a folder. Installing, upgrading or removing
a distribution adds or removes a folder in one of them, which changes that
folder's modification time, and the quick key with it; the distribution
folders and ``entry_points.txt`` files that declared the stored plugins are
checked unchanged too. Only when the quick key finds nothing are the entry
points read and the full key used; a result the full key finds is then
stored under the new quick key as well. (A script's own folder, or the
working folder of ``python -c``, is on ``sys.path`` and changes whenever a
file is made there: its next run reads the entry points once and finds the
stored result, instead of discovering again.)

Each quick key's result is a small file of its own (``...-q<hash>.bin``,
the newest :data:`MAX_ENTRIES` kept), so a process reads only the entry it
needs; the results by full key share one file, read only after a miss.
(Code that fakes the installed entry points without changing the files,
as some tests do, must switch the cache off: ``VOXELIO_CACHE_DIR=''``.)

A plugin whose import failed is imported again in every process (it may
have been fixed without any of the above changing); if it now imports, the
cache is ignored and rebuilt. Specs that cannot be stored as data (an image
class given as a class, a sniff function that cannot be named as
``module:attr``) make a discovery uncacheable: it then runs in full every
time, as it does when the cache folder cannot be written.

A module file made in a ``sys.path`` folder that comes before a stored
plugin's, under the plugin's top-level name, would be imported instead of
the plugin: it changes that folder's modification time, so the quick key
misses, and a result the full key finds is used only if each stored
plugin's top-level module is still found where it was
(:func:`origins_hold`, a few stats per plugin on that slower path only).

Not seen: modules outside a plugin's package that its entry module
imports; a ``voxelio.plugins`` entry point written by hand into the
``entry_points.txt`` of an installed distribution that declared none (an
installer replaces the distribution's folder instead).
``voxelio.refresh_plugins()`` always rediscovers. The cache folder is
``VOXELIO_CACHE_DIR`` (empty: no cache), else the platform's user cache
folder plus ``voxelio``.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

ENV_CACHE_DIR = "VOXELIO_CACHE_DIR"
#: Bump when what is stored changes shape.
CACHE_FORMAT = 5
#: Discoveries kept per interpreter (different environments, sys.path).
MAX_ENTRIES = 8

_FRAMEWORK_MODULES = ("cache", "discovery", "health", "hooks", "spec", "store")


def cache_dir() -> str | None:
    """The folder the cache lives in, or None when caching is switched off."""
    configured = os.environ.get(ENV_CACHE_DIR)
    if configured is not None:
        return configured or None
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
    elif sys.platform == "darwin":
        base = os.path.join(home, "Library", "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    return os.path.join(base, "voxelio")


def _digest(data: bytes) -> int:
    """A 32-bit digest of ``data`` for file names, without importing zlib.

    zlib is a shared library: loading it costs every process that loads an
    image ~0.2 ms, for names only. A collision is harmless: a stored entry is
    used only when its full key matches. The remainder by a prime changes
    with any change of fewer than four bytes in a row.
    """
    return int.from_bytes(data, "little") % 4294967291  # the largest prime below 2**32


def _cache_stem(folder: str) -> str:
    who = f"{sys.executable}\0{sys.prefix}\0{sys.version}".encode("utf-8", "replace")
    tag = f"{sys.version_info[0]}{sys.version_info[1]}"
    return os.path.join(folder, f"discovery-py{tag}-{_digest(who):08x}")


def _cache_file(folder: str) -> str:
    return _cache_stem(folder) + ".bin"


def _quick_file(folder: str, quick: tuple) -> str:
    # repr, not marshal: marshal's bytes depend on interning and reference counts
    digest = _digest(repr(quick).encode("utf-8", "backslashreplace"))
    return f"{_cache_stem(folder)}-q{digest:08x}.bin"


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def fingerprint(environ: Mapping[str, str], entry_points: Iterable[Any]) -> tuple:
    """What the discovery result depends on, before any plugin is imported."""
    from .. import __version__
    from .discovery import ENV_DISABLE, ENV_PLUGINS
    from .spec import API_VERSION

    here = os.path.dirname(os.path.abspath(__file__))
    own = [os.path.join(here, f"{m}.py") for m in _FRAMEWORK_MODULES]
    own.append(os.path.join(os.path.dirname(here), "hookspecs.py"))
    return (
        CACHE_FORMAT,
        __version__,
        API_VERSION,
        sys.version,
        environ.get(ENV_PLUGINS, ""),
        environ.get(ENV_DISABLE, ""),
        tuple(_entry_point_key(ep) for ep in entry_points),
        tuple(sys.path),
        tuple(_stamp(path) for path in own),
    )


def quick_key(environ: Mapping[str, str]) -> tuple | None:
    """The key of a stored discovery without reading any entry point.

    None when ``sys.path`` holds something other than folders (zip files,
    eggs): the entry points must then be read (:func:`fingerprint`).
    """
    import stat

    from .. import __version__
    from .discovery import ENV_DISABLE, ENV_PLUGINS
    from .spec import API_VERSION

    stamps = []
    for entry in sys.path:
        try:
            st = os.stat(entry or ".")
        except OSError:
            stamps.append(None)
            continue
        if not stat.S_ISDIR(st.st_mode):
            return None
        stamps.append((st.st_mtime_ns, st.st_size))
    here = os.path.dirname(os.path.abspath(__file__))
    own = [os.path.join(here, f"{m}.py") for m in _FRAMEWORK_MODULES]
    own.append(os.path.join(os.path.dirname(here), "hookspecs.py"))
    return (
        "quick",
        CACHE_FORMAT,
        __version__,
        API_VERSION,
        sys.version,
        environ.get(ENV_PLUGINS, ""),
        environ.get(ENV_DISABLE, ""),
        tuple(sys.path),
        tuple(stamps),
        tuple(_stamp(path) for path in own),
    )


def declaring_files(entry_points: Iterable[Any]) -> list[str]:
    """The distribution folders, and their ``entry_points.txt``, that declared ``entry_points``."""
    found = []
    for ep in entry_points:
        where = getattr(getattr(ep, "dist", None), "_path", None)
        if where is not None:
            found += [str(where), os.path.join(str(where), "entry_points.txt")]
    return found


def _entry_point_key(ep: Any) -> tuple:
    dist = getattr(ep, "dist", None)
    where = getattr(dist, "_path", None)  # the dist-info folder, version in its name
    if where is None:
        where = f"{getattr(dist, 'name', None)} {getattr(dist, 'version', None)}"
    return (ep.name, ep.value, str(where))


def read(key: tuple, by: str = "key") -> dict | None:
    """The stored discovery for ``key`` whose watched files are unchanged, or None.

    ``by`` says which key it is: ``'key'`` (:func:`fingerprint`) or
    ``'quick'`` (:func:`quick_key`).
    """
    folder = cache_dir()
    if folder is None:
        return None
    try:
        with open(_quick_file(folder, key) if by == "quick" else _cache_file(folder), "rb") as f:
            # one read: marshal.load on a file object reads it in small pieces
            entries = marshal.loads(f.read())
    except Exception:  # missing, unreadable, or written by something else: rebuild
        return None
    if by == "quick":
        entries = [entries]
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and entry.get(by) == key:
            files = entry.get("files", ())
            if all(_stamp(path) == (mtime, size) for path, mtime, size in files):
                return entry
            return None
    return None


def write(
    key: tuple, plugins: list[dict], files: Iterable[str], quick: tuple | None = None
) -> None:
    """Store a discovery result for ``key`` (silently nothing when not possible).

    ``files`` are watched: a change to any of them voids the result.
    ``quick`` (:func:`quick_key`) finds it again without reading entry points.
    """
    folder = cache_dir()
    if folder is None:
        return
    stamped = []
    for path in sorted(set(files)):
        stamp = _stamp(path)
        if stamp is None:
            return  # a module without a file we can watch: do not cache
        stamped.append((path, *stamp))
    entry = {"key": key, "quick": quick, "files": tuple(stamped), "plugins": plugins}
    if quick is not None:
        remember_quick(entry, quick)
    target = _cache_file(folder)
    try:
        with open(target, "rb") as f:
            old = marshal.loads(f.read())
        old = [
            e for e in old
            if isinstance(e, dict)
            and e.get("key") != key
            and (quick is None or e.get("quick") != quick)
        ]
    except Exception:
        old = []
    _store(target, [entry, *old][:MAX_ENTRIES])


def remember_quick(entry: dict, quick: tuple) -> None:
    """Store ``entry`` (a result :func:`read` or :func:`write` knows) under ``quick``."""
    folder = cache_dir()
    if folder is None:
        return
    _store(_quick_file(folder, quick), {**entry, "quick": quick})
    _prune_quick_files(folder)


def _store(target: str, value: Any) -> None:
    temp = f"{target}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(temp, "wb") as f:
            marshal.dump(value, f)
        os.replace(temp, target)
    except (OSError, ValueError):  # read-only home, full disk...: run without a cache
        with contextlib.suppress(OSError):
            os.unlink(temp)


def _prune_quick_files(folder: str) -> None:
    """Keep the newest :data:`MAX_ENTRIES` quick-key files of this interpreter."""
    prefix = os.path.basename(_cache_stem(folder)) + "-q"
    found = []
    with contextlib.suppress(OSError):
        for item in os.scandir(folder):
            if item.name.startswith(prefix) and item.name.endswith(".bin"):
                with contextlib.suppress(OSError):
                    found.append((item.stat().st_mtime_ns, item.path))
    for _, path in sorted(found, reverse=True)[MAX_ENTRIES:]:
        with contextlib.suppress(OSError):
            os.unlink(path)


def module_origin(module: str | None) -> tuple[str, str] | None:
    """``(top-level name, its file)`` of an imported plugin module, or None."""
    if not module:
        return None
    top = module.partition(".")[0]
    path = getattr(sys.modules.get(top), "__file__", None)
    return (top, os.path.abspath(path)) if path else None


def origins_hold(stored: dict) -> bool:
    """Whether an import would still find each stored plugin's top-level module in
    the file it was found in (no module made since shadows it)."""
    from importlib.util import find_spec

    for item in stored.get("plugins", ()):
        origin = item.get("origin") if isinstance(item, dict) else None
        if not origin:
            continue
        top, path = origin
        try:
            found = find_spec(top)
        except (ImportError, ValueError):
            return False
        where = getattr(found, "origin", None)
        if not where or os.path.abspath(where) != path:
            return False
    return True


def package_files(module: str | None) -> list[str]:
    """Files of the loaded modules of ``module``'s top-level package."""
    if not module:
        return []
    top = module.partition(".")[0]
    found = []
    for name, mod in list(sys.modules.items()):
        if name == top or name.startswith(top + "."):
            path = getattr(mod, "__file__", None)
            if path:  # namespace packages have none, and nothing to watch
                found.append(os.path.abspath(path))
    return found


# -- specs as data ---------------------------------------------------------------------
class LazyFunction:
    """A sniff function named ``module:qualname``, imported at its first call."""

    __slots__ = ("_function", "ref")

    def __init__(self, ref: str) -> None:
        self.ref = ref
        self._function: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._function is None:
            from .spec import resolve_ref

            self._function = resolve_ref(self.ref)
        return self._function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<sniff {self.ref}>"


def function_ref(function: Any) -> str | None:
    """``module:qualname`` that imports back to ``function``, or None."""
    if isinstance(function, LazyFunction):
        return function.ref
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", "")
    if not module or not qualname or "<" in qualname:
        return None
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return f"{module}:{qualname}" if obj is function else None


def encode_spec(spec: Any) -> dict | None:
    """A spec as plain data (marshal-able), or None when it cannot be."""
    from .spec import spec_field_names

    out: dict[str, Any] = {}
    for name in spec_field_names():
        value = getattr(spec, name)
        if name == "image_class":
            if not isinstance(value, str):
                return None
        elif name == "sniff":
            if value is not None:
                value = function_ref(value)
                if value is None:
                    return None
        elif name == "magic":
            value = tuple((rule.offset, rule.data) for rule in value)
        out[name] = value
    return out


def decode_spec(data: dict) -> Any:
    """The :class:`FormatSpec` :func:`encode_spec` stored.

    The stored values were validated and normalised when the spec was made
    (and the key holds voxelio's own registry modules), so the spec is
    rebuilt without running the checks again.
    """
    from .spec import FormatSpec, MagicRule, spec_field_names

    values = dict(data)
    if values.get("sniff") is not None:
        values["sniff"] = LazyFunction(values["sniff"])
    values["magic"] = tuple(MagicRule(offset, data) for offset, data in values.get("magic", ()))
    if set(values) != set(spec_field_names()):
        return FormatSpec(**values)  # stored by another shape of FormatSpec: check it all
    spec = object.__new__(FormatSpec)
    vars(spec).update(values)
    return spec

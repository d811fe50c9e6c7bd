"""``voxelio.sniff``, ``formats``, ``environment_report`` and runtime registration.

Offered by :mod:`voxelio.api` (``voxelio.formats is voxelio.api.formats``),
which imports this module when one of them is first asked for: a process
that only loads never does.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

from .api import _filename, _image_class
from .errors import ImageFileError
from .registry import dispatch
from .registry.dispatch import Candidate
from .registry.spec import FormatSpec
from .registry.store import FormatEntry, add_runtime_format, get_registry, refresh, remove_format

if TYPE_CHECKING:
    from .registry.info import FormatInfo


def sniff(path: str | os.PathLike) -> tuple[Candidate, ...]:
    """How every usable format judges a file, in the order ``load`` would try them.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    tuple of Candidate
        Accepted candidates first (``verdict`` 'yes', 'weak' or
        'extension'), in trial order; then those that declined ('no'), by
        name. Each has its ``evidence``.
    """
    filename = _filename(path)
    dispatch.check_readable_file(filename)
    return tuple(dispatch.rank(filename, get_registry()))


def formats() -> tuple[FormatInfo, ...]:
    """Every format known to this session, usable or not, sorted by name.

    Each usable format's image class is imported, so a format whose reader
    code cannot be imported shows as broken here (not only at the first
    load). Plugins that are broken, disabled or shadowed before declaring
    any format appear as rows of their own, with the plugin's name and
    status; so do formats not adopted because an earlier plugin provides a
    format of the same name.
    """
    from .registry.info import FormatInfo

    reg = get_registry()
    for entry in reg.ok_entries():
        with contextlib.suppress(ImageFileError):  # marks the format broken, with the cause
            _image_class(entry, reg)
    rows = [_info(entry) for _, entry in sorted(reg.entries.items())]
    rows += [_info(entry) for entry in reg.shadowed]
    providers = {id(e.plugin) for e in (*reg.entries.values(), *reg.shadowed)}
    for record in reg.plugins:
        if not record.ok and id(record) not in providers:
            rows.append(
                FormatInfo(record.name, record.distribution, record.version, record.label,
                           status=record.status, state=record.state)
            )
    return tuple(sorted(rows, key=lambda r: r.name))


def _info(entry: FormatEntry) -> Any:
    from .registry.info import FormatInfo

    spec, plugin = entry.spec, entry.plugin
    return FormatInfo(
        name=spec.name,
        distribution=plugin.distribution,
        version=plugin.version,
        plugin=plugin.label,
        image_class=spec.image_class_ref,
        extensions=spec.suffixes,
        files_types=spec.files_types,
        dtypes=spec.dtypes,
        can_read=spec.can_read,
        can_write=spec.can_write,
        status=entry.status,
        description=spec.description,
        state=entry.state,
    )


def environment_report() -> dict[str, dict[str, str]]:
    """Versions and plugin-reported facts, for bug reports.

    Returns
    -------
    dict
        Section name ('voxelio' or a plugin label) -> facts.
    """
    import platform

    import pluggy

    from . import __version__

    core = {
        "voxelio": __version__,
        "python": platform.python_version(),
        "pluggy": pluggy.__version__,
    }
    report = {"voxelio": core, "codecs": _codec_report()}
    for record, facts in get_registry().call_each("voxelio_environment_report"):
        if facts:
            report[record.label] = {str(k): str(v) for k, v in dict(facts).items()}
    return report


def _codec_report() -> dict[str, str]:
    """Which library does each codec (``VOXELIO_STDLIB_CODECS`` and threads included)."""
    from .codecs import backends

    facts = dict(backends.available_codecs())
    facts["gzip seek index"] = backends.seek_index_codec()
    facts["threads"] = str(backends.thread_count())
    if backends.stdlib_only():
        facts["restricted"] = f"{backends.STDLIB_ENV}=1: standard library only"
    return facts


# -- registration ----------------------------------------------------------------------
def register_format(obj: Any = None, /, *, replace: bool = False, **fields: Any) -> Any:
    """Register a format in this session (also a class decorator).

    Parameters
    ----------
    obj : FormatSpec or image class
        A spec, or a :class:`~voxelio.image.SpatialImage` subclass from
        whose attributes a spec is built (see Notes).
    replace : bool
        Allow replacing a plugin's format of the same name. An earlier
        runtime registration of the same name is always replaced.
    **fields
        :class:`FormatSpec` fields overriding those of ``obj``.

    Returns
    -------
    obj
        Unchanged, so that ``@register_format`` and
        ``@register_format(magic=[(0, b'LAB1')])`` both work on classes.

    Notes
    -----
    A spec built from an image class takes ``name`` from the class
    attribute ``format_name`` (default: the class name in lower case),
    ``extensions`` from ``files_types`` and ``valid_exts``, ``files_types``,
    ``compressed_suffixes``, ``aliases`` from ``compression_aliases``,
    ``can_write`` from ``rw``, and ``dtypes`` by probing the header class.
    Any other field ``f`` comes from a class attribute ``format_<f>``
    (``format_magic``, ``format_sniff``, ``format_sniff_bytes``,
    ``format_priority``, ``format_supersedes``, ``format_description``...).
    Runtime formats survive :func:`refresh_plugins`.
    """
    if obj is None:
        return lambda target: register_format(target, replace=replace, **fields)
    if isinstance(obj, FormatSpec):
        import dataclasses

        spec = dataclasses.replace(obj, **fields) if fields else obj
    elif isinstance(obj, type):
        from .registry.validation import spec_from_class

        spec = spec_from_class(obj, **fields)
    else:
        raise TypeError(f"register_format needs a FormatSpec or an image class, not {obj!r}")
    add_runtime_format(spec, replace=replace)
    return obj


def unregister_format(name: str) -> None:
    """Remove the format ``name`` from this session.

    A plugin's format comes back at the next :func:`refresh_plugins`.

    Raises
    ------
    KeyError
        If no format has that name.
    """
    try:
        remove_format(name)
    except KeyError:
        raise KeyError(f"no format named {name!r}") from None


def refresh_plugins() -> None:
    """Discover plugins again, e.g. after ``pip install`` in a running session."""
    refresh()

"""The format-independent entry points: load, save, sniff, formats, registration.

Every function here finds formats through the registry (plugins discovered
on first use); none knows a format by name. How ``load`` ranks candidate
formats is documented in :mod:`voxelio.registry.dispatch`.

(Slightly over 500 lines on purpose: the whole public surface of the
framework reads in one module.)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import HeaderDataError, ImageFileError, VoxelioError, WriterError
from .registry import dispatch
from .registry.dispatch import Candidate
from .registry.health import Cause, describe_exception, warn_once
from .registry.spec import FormatSpec
from .registry.store import (
    FormatEntry,
    Registry,
    add_runtime_format,
    get_registry,
    refresh,
    remove_format,
)

if TYPE_CHECKING:
    from .registry.info import FormatInfo
    from .registry.validation import spec_from_class

LOGGER_NAME = "voxelio"

T = TypeVar("T")


# -- load ------------------------------------------------------------------------------
def load(
    path: str | os.PathLike | Any,
    *,
    format: str | None = None,
    mmap: bool | str = True,
    keep_file_open: bool | None = None,
    storage_options: dict[str, Any] | None = None,
    open_options: dict[str, Any] | None = None,
) -> Any:
    """Load an image of whatever installed format reads it.

    Parameters
    ----------
    path : str, os.PathLike, URL or binary file object
        The file to read (for a pair, either of its files); an open binary
        file object or ``io.BytesIO`` (read from its current position; the
        format is recognised from the content); or a URL such as
        ``s3://bucket/sub-01_bold.nii.gz``, read through fsspec
        (``voxelio[remote]``) with random access. See :mod:`voxelio.sources`.
    format : str, optional
        A format name (see :func:`formats`); skips format detection.
    mmap : {True, False, 'c', 'r'}
        Passed to the image class: whether (and how) to memory-map data.
    keep_file_open : bool or None
        Passed to the image class.
    storage_options : dict, optional
        URLs only: passed to the fsspec filesystem (credentials, endpoint...).
    open_options : dict, optional
        URLs only: passed to the filesystem's ``open`` (caching, block size);
        defaults in :data:`voxelio.sources.REMOTE_OPEN_OPTIONS`.

    Returns
    -------
    SpatialImage
        The image; ``img.format_name`` says which format read it.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ImageFileError
        If the file is empty, or no format could read it. When one format
        claimed the file (its suffix and its content rules) and refused it,
        the message is that format's reason; otherwise it lists every
        format, why it declined or failed, broken plugins, and which
        distribution to install when a known plugin would read the name.
    """
    from .openfiles import load_hand_off, loading

    if _maybe_source(path):
        from . import sources  # here: plain file names never need it (nor shutil, tempfile)

        if sources.is_file_object(path) or sources.is_url(path):
            return _load_source(
                path, format, mmap, keep_file_open, storage_options, open_options
            )
    filename = _filename(path)
    dispatch.check_readable_file(filename)
    reg = get_registry()
    # the file is opened (and a compressed one inflated) once for detection and header
    with load_hand_off(), loading(filename):
        if format is not None:
            entry = _entry_for(format, reg, "read")
            img = _read(entry, reg, filename, mmap, keep_file_open)
        else:
            readable = [e for e in reg.ok_entries() if e.spec.can_read]
            trial = dispatch.Trial(filename, reg, readable)
            img, entry = _first_reader(trial, reg, filename, mmap, keep_file_open)
    _after_load(img, entry, reg, filename)
    return img


def _load_source(
    target: Any, format: str | None, mmap: Any, keep: Any,
    storage_options: dict[str, Any] | None, open_options: dict[str, Any] | None,
) -> Any:
    """Load from a file object or a URL (see :mod:`voxelio.sources`)."""
    from . import sources
    from ._sourceload import load_from

    reg = get_registry()
    if format is not None:
        entries = [_entry_for(format, reg, "read")]
    else:
        entries = [e for e in reg.ok_entries() if e.spec.can_read]
    if sources.is_url(target):
        remote = sources.resolve_url(target, storage_options, open_options)
        if remote.is_local:
            return load(sources.local_path(remote), format=format, mmap=mmap,
                        keep_file_open=keep)
        remote.size(remote.path)  # a missing file or unreachable store fails here, named
        img, entry = load_from(
            remote.open, remote.path, remote.path, reg, entries, shown=repr(target),
            format_chosen=format is not None, mmap=False, keep=keep,
        )
        shown = target
    else:
        fobj = sources.readable_object(target)
        name = sources.object_name(target)

        def only(path: str) -> Any:
            if path != "<object>":
                raise ImageFileError(
                    f"this format needs a second file ({path!r}) that a single file object "
                    "cannot provide; pass a file name or URL instead"
                )
            return fobj

        img, entry = load_from(
            only, name, "<object>", reg, entries, shown=f"the {type(target).__name__} object",
            format_chosen=format is not None, mmap=False, keep=keep, owned=False,
        )
        shown = name or f"<{type(target).__name__}>"
    _after_load(img, entry, reg, shown)
    return img


def _first_reader(
    trial: dispatch.Trial, reg: Registry, filename: str, mmap: Any, keep: Any
) -> tuple[Any, FormatEntry]:
    """Read with each accepted candidate in turn; the first image wins.

    Any exception from a plugin's reader counts as that candidate failing
    (a VoxelioError is the expected way to decline; any other exception
    also warns once, naming the plugin). A reader that returns something
    other than an image marks its format broken. KeyboardInterrupt and
    other BaseExceptions propagate. When every candidate fails, the error
    is the refusal of the format that claimed the file, if one did
    (:func:`.refusals.claims`), else the whole story of the attempt.
    """
    failures: list[tuple[str, str]] = []
    refusals: dict[str, VoxelioError] = {}
    for cand in trial:
        entry = reg.entries.get(cand.name)
        if entry is None or not entry.ok:
            continue
        try:
            img = _read(entry, reg, filename, mmap, keep)
        except VoxelioError as exc:
            failures.append((cand.name, describe_exception(exc)))
            refusals[cand.name] = exc
            continue
        except Exception as exc:
            why = f"its reader raised {describe_exception(exc)}"
            warn_once(
                entry.plugin.label,
                f"reader of {entry.name!r} raised {type(exc).__name__}",
                f"voxelio plugin {entry.plugin.label}: format {entry.name!r}: {why} "
                f"(reading {filename!r}); trying the next format",
            )
            failures.append((cand.name, why))
            continue
        if not _is_image(img, entry):
            cause = Cause(f"its reader returned {_kind(img)}, not an image")
            reg.mark_format_broken(entry, cause)
            failures.append((cand.name, str(cause)))
            continue
        return img, entry
    from .registry.refusals import claimed_message, claims, no_match_message

    accepted = [c for c in trial.candidates if c.accepted]
    if accepted and accepted[0].name in refusals and claims(
        accepted[0].key, (c.key for c in accepted[1:])
    ):
        refusal = refusals[accepted[0].name]
        others = [name for name, _ in failures]
        text = claimed_message(repr(filename), accepted[0].name, refusal, others)
        raise ImageFileError(text) from refusal
    raise ImageFileError(no_match_message(filename, trial.candidates, failures, reg))


def _is_image(obj: Any, entry: FormatEntry) -> bool:
    klass = entry.spec.load_image_class()
    if isinstance(klass, type) and isinstance(obj, klass):
        return True
    from .image import SpatialImage

    return isinstance(obj, SpatialImage)


def _kind(obj: Any) -> str:
    return "None" if obj is None else f"a {type(obj).__module__}.{type(obj).__qualname__}"


def _read(
    entry: FormatEntry, reg: Registry, filename: str, mmap: Any, keep: Any
) -> Any:
    from ._settled import load_settled
    from .filemaps import FileHolder

    klass = _image_class(entry, reg)
    spec = entry.spec
    if not hasattr(klass, "filespec_to_file_map"):
        return klass.from_filename(filename, mmap=mmap, keep_file_open=keep)
    if len(spec.files_types) > 1:
        file_map = spec.file_map(filename)
    else:
        # one file: the name itself (dispatch matched its suffix, or the content
        # was recognised and the class would reject the name)
        file_map = {spec.files_types[0][0]: FileHolder(filename=filename)}
    return load_settled(
        lambda: klass.from_file_map(file_map, mmap=mmap, keep_file_open=keep), file_map
    )


def _after_load(img: Any, entry: FormatEntry, reg: Registry, filename: str) -> None:
    img.format_name = entry.name
    for record, fixes in reg.call_each(
        "voxelio_fix_header", header=img.header, format_name=entry.name, path=filename
    ):
        for fix in fixes or ():
            import logging  # here: most loads have nothing to log

            logging.getLogger(LOGGER_NAME).info(
                "%s: header fix by %s: %s", filename, record.label, fix
            )
    reg.call_each("voxelio_after_load", image=img, path=filename, format_name=entry.name)


# -- save ------------------------------------------------------------------------------
def save(
    img: Any,
    path: str | os.PathLike | Any,
    *,
    format: str | None = None,
    dtype: Any = None,
    storage_options: dict[str, Any] | None = None,
    **options: Any,
) -> None:
    """Save an image in the format its target name implies.

    Parameters
    ----------
    img : SpatialImage
        Any image; converted with ``Klass.from_image`` when the target
        format's class differs from the image's.
    path : str, os.PathLike, URL or writable binary file object
        Target file name; its suffix chooses the format (``.nii.gz``...).
        A URL (``s3://...``, through fsspec) is written locally, then
        uploaded one object per file (atomic per object; the two files of
        a pair are two uploads). A file object receives the file's bytes
        from its current position; its format comes from ``format`` or
        its ``name`` attribute.
    format : str, optional
        A format name, overriding the choice by name.
    dtype : dtype-like, optional
        On-disk data type.
    storage_options : dict, optional
        URLs only: passed to the fsspec filesystem.
    **options
        Passed to ``to_filename`` (``compresslevel``...).

    Raises
    ------
    ImageFileError
        If no installed format writes files named like ``path``.

    Notes
    -----
    Among writable formats whose suffixes fit the name, the image's own
    class is preferred, then the format that read it, then the longest
    matching suffix, ``supersedes`` depth, ``priority`` and name (the
    ranking of :func:`voxelio.registry.dispatch.choose_writer`).
    """
    from . import sources

    if sources.is_file_object(path) or sources.is_url(path):
        _save_source(img, path, format, dtype, storage_options, options)
        return
    filename = _filename(path)
    reg = get_registry()
    if format:
        entry = _entry_for(format, reg, "write")
    else:
        entry = dispatch.choose_writer(img, filename, reg)
    klass = _image_class(entry, reg)
    if dtype is not None:  # before from_image, whose error would not name the target
        _check_declared_dtype(entry, dtype, filename)
    out = img if type(img) is klass else _converted(klass, img, dtype, filename, entry.name)
    stored = out.get_data_dtype()
    # a pending alias ('compat'...) is the image's to resolve from its data when it writes
    if dtype is None and not isinstance(stored, str):
        _check_declared_dtype(entry, stored, filename)
    reg.call_each("voxelio_before_save", image=out, path=filename, format_name=entry.name)
    if dtype is not None:
        options["dtype"] = dtype
    file_map = entry.spec.file_map(filename)
    out.to_file_map(file_map, **options)
    out.file_map = file_map
    out.format_name = entry.name


def _converted(klass: type, img: Any, dtype: Any, filename: str, format_name: str) -> Any:
    """``klass.from_image(img)``; a dtype the caller chose and it cannot store is a WriterError."""
    if dtype is None:
        return klass.from_image(img)
    try:
        return klass.from_image(img, dtype=dtype)
    except HeaderDataError as err:  # a format whose spec declares no dtypes
        raise WriterError(f"cannot save {filename} as {format_name}: {err}") from None


def _check_declared_dtype(entry: Any, dtype: Any, filename: str) -> None:
    """Refuse a dtype the target format's spec does not declare (WriterError).

    A spec's ``dtypes`` is the format's promise; a writer never sees a dtype
    outside it, so a plugin cannot fail deep inside its own tables.
    """
    declared = entry.spec.dtypes
    if not declared:
        return
    import numpy as np

    from .registry.spec import parse_dtype

    try:
        wanted = np.dtype(dtype)
    except TypeError as err:
        raise WriterError(f"cannot save {filename}: {dtype!r} is not a dtype ({err})") from None
    if any(parse_dtype(name).newbyteorder("=") == wanted.newbyteorder("=")
           for name in declared):
        return
    from .dtypes import dtype_label

    raise WriterError(
        f"cannot save {filename} as {entry.name}: it does not store {dtype_label(wanted)}; "
        f"it stores {', '.join(dtype_label(name) for name in declared)}"
    )


def _save_source(
    img: Any, target: Any, format: str | None, dtype: Any,
    storage_options: dict[str, Any] | None, options: dict[str, Any],
) -> None:
    """Save to a URL or a file object: an ordinary save to a staging folder, then a copy."""
    from . import sources

    if sources.is_url(target):
        remote = sources.resolve_url(target, storage_options)
        if remote.is_local:
            save(img, sources.local_path(remote), format=format, dtype=dtype, **options)
            return
        name = remote.path
    else:
        name = sources.object_name(target) or ""
        if format is None and not name:
            raise ImageFileError(
                f"cannot choose a format for a {type(target).__name__} without a name: "
                "pass format=..."
            )
        if format is not None:
            spec = _entry_for(format, get_registry(), "write").spec
            if not spec.match_suffix(os.path.basename(name)):
                name = "image" + spec.extensions[0]
    kept_map = getattr(img, "file_map", None)
    with sources.staged_save(name) as staged, _staging_retold(staged, target):
        save(img, staged, format=format, dtype=dtype, **options)
        if kept_map is not None:  # the staged file goes away: not where the image lives
            img.file_map = kept_map
        written = sources.written_files(staged)
        if sources.is_url(target):
            sources.upload(remote, written, staged)
        elif len(written) > 1:
            which = f"format {format!r}" if format else f"the format of {name!r}"
            raise ImageFileError(
                f"{which} writes {len(written)} files; a single file object cannot hold them: "
                "save to a file name or URL"
            )
        else:
            sources.copy_into(target, written[0])


@contextlib.contextmanager
def _staging_retold(staged: str, target: Any) -> Iterator[None]:
    """Errors of a staged save told about ``target`` (a URL or file object), not the stage."""
    from . import sources
    from ._retell import replacing, retold

    folder = os.path.dirname(staged) + os.sep
    if sources.is_url(target):
        url = str(target)
        names = {staged: url, folder: url[: url.rfind("/") + 1]}
    else:
        shown = sources.object_name(target) or f"the {type(target).__name__} object"
        names = {staged: shown, folder: ""}
    try:
        yield
    except (OSError, VoxelioError, TypeError, ValueError) as err:
        new = retold(err, replacing(names))
        if new is None:
            raise
        raise new from None


# -- sniff and formats ---------------------------------------------------------------
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


# -- helpers ---------------------------------------------------------------------------
def _maybe_source(path: Any) -> bool:
    """False for what can only be a file name (text without '://', or a path object)."""
    if isinstance(path, str):
        return "://" in path
    return not isinstance(path, os.PathLike)


def _filename(path: Any) -> str:
    filename = os.fspath(path)
    if not isinstance(filename, str):
        kind = type(filename).__name__
        raise TypeError(f"file names must be str or os.PathLike of str, not {kind}")
    return os.path.expanduser(filename)  # "~/x.nii" names a file in the home folder


def _entry_for(name: str, reg: Registry, action: str) -> FormatEntry:
    entry = reg.entries.get(name)
    if entry is None:
        from .registry.known import known_by_name

        names = ", ".join(sorted(reg.entries)) or "(none)"
        message = f"unknown format {name!r}; installed formats: {names}"
        known = known_by_name(name)
        if known is not None:
            dist = known.distribution
            message += f"; {name!r} comes with {dist}: pip install {dist}"
        raise ImageFileError(message)
    if not entry.ok:
        raise ImageFileError(f"format {name!r} cannot be used: {entry.status}")
    if not getattr(entry.spec, f"can_{action}"):
        raise ImageFileError(f"format {name!r} cannot {action} files")
    return entry


def _image_class(entry: FormatEntry, reg: Registry) -> Callable[..., Any]:
    try:
        return entry.spec.load_image_class()
    except Exception as exc:
        ref = entry.spec.image_class_ref
        cause = Cause.from_exception(f"cannot import image class {ref}", exc)
        reg.mark_format_broken(entry, cause)
        raise ImageFileError(f"format {entry.name!r}: {cause}") from exc


def __getattr__(name: str) -> Any:
    # FormatInfo lives with the registry; made (a dataclass) only when asked for
    if name == "FormatInfo":
        from .registry.info import FormatInfo

        return FormatInfo
    if name == "spec_from_class":  # with the spec checks, which a load never runs
        from .registry.validation import spec_from_class

        return spec_from_class
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FormatInfo",
    "environment_report",
    "formats",
    "load",
    "refresh_plugins",
    "register_format",
    "save",
    "sniff",
    "spec_from_class",
    "unregister_format",
]

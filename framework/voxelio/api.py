"""The format-independent entry points: load, save, sniff, formats, registration.

Every function here finds formats through the registry (plugins discovered
on first use); none knows a format by name. How ``load`` ranks candidate
formats is documented in :mod:`voxelio.registry.dispatch`.

``load`` and what it needs are here; ``save`` (:mod:`voxelio._api_save`) and
``sniff``, ``formats`` and registration (:mod:`voxelio._api_registry`) are
imported on first use, under these same names: a process that only loads
never unmarshals their code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._lazy import lazy_attributes
from .errors import ImageFileError, VoxelioError
from .registry import dispatch
from .registry.health import Cause, describe_exception, warn_once
from .registry.store import (
    FormatEntry,
    Registry,
    get_registry,
)

if TYPE_CHECKING:
    from ._api_registry import (
        environment_report,
        formats,
        refresh_plugins,
        register_format,
        sniff,
        unregister_format,
    )
    from ._api_save import save
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


# save, sniff, formats and registration live in modules of their own, imported when
# first asked for: a process that only loads never unmarshals them
_ELSEWHERE = {
    "save": "voxelio._api_save",
    "sniff": "voxelio._api_registry",
    "formats": "voxelio._api_registry",
    "environment_report": "voxelio._api_registry",
    "register_format": "voxelio._api_registry",
    "unregister_format": "voxelio._api_registry",
    "refresh_plugins": "voxelio._api_registry",
    # FormatInfo lives with the registry; made (a dataclass) only when asked for
    "FormatInfo": "voxelio.registry.info",
    "spec_from_class": "voxelio.registry.validation",  # with the spec checks
}
__getattr__, __dir__ = lazy_attributes(globals(), _ELSEWHERE)


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

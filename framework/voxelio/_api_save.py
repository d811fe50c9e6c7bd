"""``voxelio.save`` and its helpers (saves to URLs and file objects included).

Offered by :mod:`voxelio.api` (``voxelio.save is voxelio.api.save``), which
imports this module when ``save`` is first asked for: a process that only
loads never does.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from .api import _entry_for, _filename, _image_class
from .errors import HeaderDataError, ImageFileError, VoxelioError, WriterError
from .registry import dispatch
from .registry.store import get_registry


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

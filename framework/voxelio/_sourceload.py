"""Loading from file objects and URLs: formats chosen by name (if any) and content.

The ordinary load works on file names on this machine; here every file is
reached through an *opener* (name -> open binary file object), so that the
same steps serve an ``io.BytesIO`` (one file, no partner) and a URL (the
partner of a pair is opened beside it on the same store).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, BinaryIO

from .errors import ImageFileError, VoxelioError
from .filemaps import FileHolder
from .registry.dispatch import _VERDICT_RANK, content_verdict, preference
from .registry.health import describe_exception
from .registry.spec import NO

Opener = Callable[[str], BinaryIO]


def _prefix(fobj: BinaryIO, nbytes: int) -> tuple[bytes, str]:
    """The first ``nbytes`` decompressed bytes of ``fobj`` and a note if reading stopped early.

    The position of ``fobj`` is restored. A damaged compressed stream keeps
    what was read; the note says where and why it stopped, so that a format
    refusing the short prefix does not hide the damage (as for a load by
    name).
    """
    from .openfiles import reading

    here = fobj.tell()
    chunks, got, note = [], 0, ""
    try:
        with reading(FileHolder(fileobj=fobj)) as stream:
            while got < nbytes:
                chunk = stream.read(nbytes - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
    except (VoxelioError, OSError, EOFError, ValueError) as exc:
        note = f"reading stopped after {got} bytes: {describe_exception(exc)}"
    fobj.seek(here)
    return b"".join(chunks), note


def _file_names(spec: Any, name: str | None, main: str) -> dict[str, str] | None:
    """File type -> name for ``spec``, from the name given; None if it cannot apply."""
    base = (name or "").rsplit("/", 1)[-1]
    if len(spec.files_types) == 1:
        return {spec.files_types[0][0]: main}
    if name and spec.match_suffix(base):
        try:
            names = {ft: holder.filename for ft, holder in spec.file_map(name).items()}
        except Exception:
            return None
        # the file named is reached as ``main``; its partner by its own name
        return {ft: main if path == name else path for ft, path in names.items()}
    if len(spec.files_types) == 1:
        return {spec.files_types[0][0]: main}
    return None


def load_from(
    opener: Opener, name: str | None, main: str, reg: Any, entries: list[Any], *,
    shown: str, format_chosen: bool = False, mmap: Any = False, keep: Any = None,
    owned: bool = True,
) -> tuple[Any, Any]:
    """Read an image through ``opener``; ``(image, format entry)``.

    ``name`` is the name used for suffixes and partner files (None: content
    only); ``main`` is what ``opener`` takes for the file the user named.
    """
    opened: dict[str, BinaryIO] = {}
    starts: dict[str, int] = {}
    prefixes: dict[str, tuple[bytes, str]] = {}

    def get(path: str) -> BinaryIO:
        if path not in opened:
            opened[path] = opener(path)
            starts[path] = opened[path].tell()  # the image starts where the object is
        return opened[path]

    ranked: list[tuple[tuple, Any, dict[str, str]]] = []
    failures: list[tuple[str, str]] = []
    for entry in entries:
        spec = entry.spec
        names = _file_names(spec, name, main)
        if names is None:
            failures.append((spec.name, "multi-file format; the name does not fit it"))
            continue
        suffix = spec.match_suffix((name or "").rsplit("/", 1)[-1]) if name else ""
        if format_chosen:
            ranked.append(((0,), entry, names))
            continue
        examined = names[spec.sniff_file_type]
        try:
            fobj = get(examined)
        except (FileNotFoundError, VoxelioError) as exc:
            failures.append((spec.name, f"cannot read {examined!r}: {describe_exception(exc)}"))
            continue
        if examined not in prefixes or len(prefixes[examined][0]) < spec.sniff_bytes:
            # as much as any candidate needs, in one read: each read opens the
            # file's decompression again (over a network, requests again)
            most = max((e.spec.sniff_bytes for e in entries), default=0)
            prefixes[examined] = _prefix(fobj, max(spec.sniff_bytes, most, 512))
        prefix, note = prefixes[examined]
        try:
            said = content_verdict(spec, prefix, name)
        except Exception as exc:
            failures.append((spec.name, f"sniff raised {describe_exception(exc)}"))
            continue
        if said is None:
            if not suffix:
                failures.append((spec.name, "no content rules and the name does not fit"))
                continue
            verdict, strength = "extension", 0
        elif said.verdict == NO:
            failures.append((spec.name, f"{said.evidence} ({note})" if note else said.evidence))
            continue
        else:
            verdict, strength = said.verdict, said.strength
        key = (0 if suffix else 1, -_VERDICT_RANK[verdict], -strength)
        ranked.append(((*key, *preference(spec, suffix, reg)), entry, names))
    ranked.sort(key=lambda item: item[0])
    from .api import _image_class

    refusals: dict[str, BaseException] = {}
    for _, entry, names in ranked:
        try:
            klass = _image_class(entry, reg)
            file_map = _file_map(klass, names, get, starts)
            img = klass.from_file_map(file_map, mmap=mmap, keep_file_open=keep)
        except (VoxelioError, FileNotFoundError) as exc:
            failures.append((entry.spec.name, describe_exception(exc)))
            refusals[entry.spec.name] = exc
            continue
        if owned:
            _close([f for p, f in opened.items() if p not in names.values()])
        return img, entry
    if owned:
        _close(list(opened.values()))
    if ranked and not format_chosen:
        from .registry.refusals import claimed_message, claims

        key, entry, _ = ranked[0]
        refusal = refusals.get(entry.spec.name)
        if refusal is not None and claims(key, (k for k, _, _ in ranked[1:])):
            others = [fmt for fmt, _ in failures if fmt in refusals]
            text = claimed_message(shown, entry.spec.name, refusal, others)
            raise ImageFileError(text) from refusal
    lines = [f"no installed format could read {shown}"]
    lines += [f"  {fmt}: {why}" for fmt, why in failures]
    raise ImageFileError("\n".join(lines))


def _file_map(
    klass: Any, names: dict[str, str], get: Callable[[str], BinaryIO], starts: dict[str, int]
) -> dict[str, FileHolder]:
    """The file map of ``names``, each opened; a missing data file is refused as by name.

    A load by file name of a header whose data file is missing says which
    file and what it should hold (the proxy's check); here the partner
    cannot even be opened, so the header is read to say the same.
    """
    file_map: dict[str, FileHolder] = {}
    missing: tuple[str, FileNotFoundError] | None = None
    for ft, path in names.items():
        try:
            file_map[ft] = FileHolder(fileobj=get(path), pos=starts[path])
        except FileNotFoundError as exc:
            if missing is not None:
                raise
            missing = (ft, exc)
    if missing is None:
        return file_map
    ft, exc = missing
    if ft != "image" or "header" not in file_map:
        raise exc
    try:
        header = klass._read_header(file_map)
        shape, dtype = header.get_data_shape(), header.get_data_dtype()
    except Exception:
        raise exc from None  # the header's own problem is for another load to find
    import numpy as np

    from .proxy import _missing_data_file_message

    name = exc.filename if isinstance(exc.filename, str) else names[ft]
    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    raise ImageFileError(_missing_data_file_message("image file", name, nbytes, dtype, shape))


def _close(files: list[BinaryIO]) -> None:
    for fobj in files:
        with contextlib.suppress(Exception):
            fobj.close()

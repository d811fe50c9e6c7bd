"""Checking a :class:`~voxelio.registry.spec.FormatSpec` as it is made, and specs from classes.

A spec is checked (and its fields normalised) when it is constructed, and its
dtype names when the registry adopts it (:func:`validate_spec`). A load whose
discovery comes from the cache rebuilds stored specs without checking them
again, so it never imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .spec import (
    DEFAULT_COMPRESSED_SUFFIXES,
    MAX_SNIFF_BYTES,
    FormatSpec,
    MagicRule,
    spec_field_names,
)

# The shapes of names, references and suffixes are checked with sets of
# characters, not regular expressions: compiling the patterns cost every process
# that builds a spec (a discovery, a plugin's tests) ~0.15 ms.
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_ASCII_WORD = _LOWER | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_NAME_CHARS = _LOWER | frozenset("0123456789_.+-")
_SUFFIX_CHARS = _ASCII_WORD | frozenset("+-")
_FILE_TYPE_CHARS = _ASCII_WORD | frozenset("-")
# Every field that names something is checked whole: a trailing newline (or
# any other white space) is refused with the field named, never let through
# to become part of a suffix no file name ends in.


def _is_name(text: str) -> bool:
    """A lower-case word: a letter, then letters, digits, ``_ . + -``."""
    return text[:1] in _LOWER and _NAME_CHARS.issuperset(text)


def _is_ref(text: str) -> bool:
    """``'module:attr'``: two dotted names (a letter or ``_`` first) around one colon."""
    parts = text.split(":")
    return len(parts) == 2 and all(
        part[:1] in _ASCII_WORD and not part[:1].isdigit()
        and all(c == "." or c == "_" or c.isalnum() for c in part)
        for part in parts
    )


def _is_file_type(text: str) -> bool:
    """A file type of a format's file map: ``'image'``, ``'header'``."""
    return bool(text) and _FILE_TYPE_CHARS.issuperset(text)


def _is_suffix(text: str) -> bool:
    """One or more ``.part`` (``'.nii'``, ``'.nii.gz'``), parts of ``A-Z a-z 0-9 _ + -``."""
    first, *parts = text.split(".")
    return first == "" and bool(parts) and all(p and _SUFFIX_CHARS.issuperset(p) for p in parts)


#: numpy's type names a spec may use (with an optional byte-order character
#: first); type codes (``'i2'``, ``'f4'``, ``'S10'``) are checked by shape
_DTYPE_NAMES = frozenset(
    ["bool", "bool_", "int", "uint", "float", "complex", "half", "single", "double",
     "longdouble", "clongdouble", "byte", "ubyte", "short", "ushort", "intc", "uintc",
     "longlong", "ulonglong"]
    + [f"{u}int{bits}" for u in ("", "u") for bits in (8, 16, 32, 64)]
    + [f"float{bits}" for bits in (16, 32, 64, 96, 128)]
    + [f"complex{bits}" for bits in (64, 128, 192, 256)]
)


def _is_dtype_name(text: str) -> bool:
    name = text[1:] if text[:1] in ("<", ">", "|", "=") else text
    if name in _DTYPE_NAMES:
        return True
    size = name[1:]
    return name[:1] in _TYPE_CODES and (size == "" or (size.isascii() and size.isdigit()))


_TYPE_CODES = frozenset("?biufcSUV")


def _dtype_problem(value: Any) -> str | None:
    """Why ``value`` is not a dtype description numpy understands, or None.

    A pure-Python check (discovery must not import numpy): a type name or
    type code, or a structured dtype as a list of (name, type[, shape]).
    """
    if isinstance(value, str) and not value.strip().startswith("["):
        return None if _is_dtype_name(value.strip()) else "unknown type name"
    if isinstance(value, str):
        import ast

        try:
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            return "not a valid list literal"
    if not isinstance(value, list) or not value:
        return "a structured dtype must be a non-empty list of fields"
    for fld in value:
        if not (isinstance(fld, tuple) and len(fld) in (2, 3) and isinstance(fld[0], str)):
            return f"field {fld!r} must be (name, type[, shape])"
        problem = _dtype_problem(fld[1])
        if problem:
            return f"field {fld[0]!r}: {problem}"
    return None


def validate_spec(spec: FormatSpec) -> list[str]:
    """Problems beyond structure: dtype strings numpy would not understand.

    Pure Python (discovery never imports numpy).

    Returns
    -------
    list of str
        Empty when the spec is sound.
    """
    problems = []
    for name in spec.dtypes:
        why = _dtype_problem(name)
        if why:
            problems.append(f"dtypes entry {name!r} is not a numpy dtype ({why})")
    return problems


# -- normalisation and structural checks ---------------------------------------
def _set(spec: FormatSpec, name: str, value: Any) -> None:
    object.__setattr__(spec, name, value)


def _as_tuple(value: Any, what: str, problems: list[str]) -> tuple:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        problems.append(f"{what} must be a sequence, not {type(value).__name__}")
        return ()
    return tuple(value)


def normalise(spec: FormatSpec, problems: list[str]) -> None:
    _check_identity(spec, problems)
    _check_names(spec, problems)
    _check_files(spec, problems)
    _check_content(spec, problems)
    _check_flags(spec, problems)


def _check_identity(spec: FormatSpec, problems: list[str]) -> None:
    if not isinstance(spec.name, str) or not _is_name(spec.name):
        problems.append(
            f"name {spec.name!r} must be a lower-case word (letters, digits, '_', '-', '.', '+')"
        )
    if type(spec.api_version) is not int:
        problems.append(f"api_version must be an int, not {spec.api_version!r}")
    ref = spec.image_class
    if isinstance(ref, str):
        if not _is_ref(ref):
            problems.append(f"image_class {ref!r} must look like 'package.module:ClassName'")
    elif not isinstance(ref, type):
        problems.append(f"image_class must be a 'module:attr' string or a class, not {ref!r}")
    exports = spec.exports
    if isinstance(exports, Mapping):
        exports = tuple(sorted(exports.items()))
    exports = _as_tuple(exports, "exports", problems)
    for item in exports:
        if (
            not isinstance(item, tuple)
            or len(item) != 2
            or not isinstance(item[0], str)
            or not item[0].isidentifier()
            or not isinstance(item[1], str)
            or not _is_ref(item[1])
        ):
            problems.append(f"exports entry {item!r} must map an identifier to 'module:attr'")
    _set(spec, "exports", exports)


def _suffix_tuple(spec: FormatSpec, attr: str, problems: list[str]) -> tuple[str, ...]:
    values = _as_tuple(getattr(spec, attr), attr, problems)
    for value in values:
        if not isinstance(value, str) or not _is_suffix(value):
            problems.append(f"{attr} entry {value!r} must be a suffix like '.nii' (leading dot)")
    _set(spec, attr, values)
    return values


def _check_names(spec: FormatSpec, problems: list[str]) -> None:
    extensions = _suffix_tuple(spec, "extensions", problems)
    aliases = _suffix_tuple(spec, "aliases", problems)
    _suffix_tuple(spec, "compressed_suffixes", problems)
    if not extensions and not aliases and not spec.magic and spec.sniff is None:
        problems.append("no extensions, aliases, magic or sniff: nothing could ever select it")


def _check_files(spec: FormatSpec, problems: list[str]) -> None:
    files_types = _as_tuple(spec.files_types, "files_types", problems)
    if not files_types and spec.extensions:
        files_types = (("image", spec.extensions[0]),)
    elif not files_types:
        files_types = (("image", None),)
    clean = []
    for item in files_types:
        ok = isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)
        if not ok or not (item[1] is None or isinstance(item[1], str)):
            problems.append(f"files_types entry {item!r} must be (file_type, extension or None)")
            continue
        if not _is_file_type(item[0]) or not (item[1] is None or _is_suffix(item[1])):
            problems.append(
                f"files_types entry {tuple(item)!r}: the file type must be a word (letters, "
                "digits, '_', '-') and the extension a suffix like '.img' (leading dot)"
            )
            continue
        clean.append((item[0], item[1]))
    _set(spec, "files_types", tuple(clean))
    keys = [k for k, _ in clean]
    if len(set(keys)) != len(keys):
        problems.append(f"files_types has repeated file types {keys}")
    if spec.sniff_file_type is None and clean:
        _set(spec, "sniff_file_type", "header" if "header" in keys else keys[0])
    elif spec.sniff_file_type not in keys:
        problems.append(f"sniff_file_type {spec.sniff_file_type!r} is not one of {keys}")


def _check_content(spec: FormatSpec, problems: list[str]) -> None:
    rules = []
    for item in _as_tuple(spec.magic, "magic", problems):
        if isinstance(item, (tuple, list)) and len(item) == 2:
            item = MagicRule(*item)
        if (
            not isinstance(item, MagicRule)
            or type(item.offset) is not int
            or item.offset < 0
            or not isinstance(item.data, bytes)
            or not item.data
        ):
            problems.append(f"magic entry {item!r} must be (offset >= 0, non-empty bytes)")
            continue
        rules.append(item)
    _set(spec, "magic", tuple(rules))
    if spec.sniff is not None and not callable(spec.sniff):
        problems.append(f"sniff must be callable, not {type(spec.sniff).__name__}")
    needed = max((r.end for r in rules), default=0)
    nbytes = spec.sniff_bytes
    if type(nbytes) is not int or nbytes < 0:
        problems.append(f"sniff_bytes must be an int >= 0, not {nbytes!r}")
        return
    if nbytes == 0:
        nbytes = needed
    if nbytes < needed:
        problems.append(f"sniff_bytes={nbytes} is less than the {needed} bytes the magic needs")
    if spec.sniff is not None and nbytes == 0:
        problems.append("sniff_bytes must say how many leading bytes sniff() needs")
    if nbytes > MAX_SNIFF_BYTES:
        problems.append(f"sniff_bytes={nbytes} exceeds the limit of {MAX_SNIFF_BYTES}")
    _set(spec, "sniff_bytes", nbytes)


def _check_flags(spec: FormatSpec, problems: list[str]) -> None:
    for attr in ("can_read", "can_write", "sniff_trusted"):
        if not isinstance(getattr(spec, attr), bool):
            problems.append(f"{attr} must be True or False, not {getattr(spec, attr)!r}")
    dtypes = _as_tuple(spec.dtypes, "dtypes", problems)
    for value in dtypes:
        if not isinstance(value, str) or not value.strip():
            problems.append(f"dtypes entry {value!r} must be a numpy dtype name like 'int16'")
    # white space around a dtype never mattered (parse_dtype strips it): stored
    # without, so that tables and comparisons see the name alone
    _set(spec, "dtypes", tuple(v.strip() if isinstance(v, str) else v for v in dtypes))
    supersedes = _as_tuple(spec.supersedes, "supersedes", problems)
    for value in supersedes:
        if not isinstance(value, str) or value == spec.name or not _is_name(value):
            problems.append(f"supersedes entry {value!r} must name another format")
    _set(spec, "supersedes", supersedes)
    if type(spec.priority) is not int:
        problems.append(f"priority must be an int, not {spec.priority!r}")
    if not isinstance(spec.description, str):
        problems.append("description must be a string")
    counterpart = spec.nibabel_class
    if not isinstance(counterpart, str) or (counterpart and not _is_ref(counterpart)):
        problems.append(
            f"nibabel_class {counterpart!r} must be '' or look like 'nibabel.module:ClassName'"
        )


def problem_message(name: Any, problems: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"invalid FormatSpec {name!r}:\n{lines}"


def spec_from_class(cls: type, **overrides: Any) -> FormatSpec:
    """Build a :class:`FormatSpec` from an image class's attributes.

    ``name`` comes from the class's own attribute ``format_name`` (default:
    the class name in lower case), ``extensions`` from ``files_types`` and
    ``valid_exts``, ``files_types``, ``compressed_suffixes``, ``aliases``
    from ``compression_aliases``, ``can_write`` from ``rw``, and ``dtypes``
    by probing the header class. Any other field ``f`` comes from a class
    attribute ``format_<f>`` (``format_magic``, ``format_sniff``,
    ``format_priority``...). ``overrides`` win over all of these.

    Raises
    ------
    InvalidSpecError
        If the resulting declaration is malformed.
    """
    files_types = tuple(getattr(cls, "files_types", ()))
    exts = [e for _, e in files_types if e] + list(getattr(cls, "valid_exts", ()))
    values: dict[str, Any] = {
        # only the class's own format_name: a subclass is another format
        "name": cls.__dict__.get("format_name") or cls.__name__.lower(),
        "image_class": cls,
        "extensions": tuple(dict.fromkeys(exts)),
        "files_types": files_types,
        "compressed_suffixes": tuple(
            getattr(cls, "compressed_suffixes", DEFAULT_COMPRESSED_SUFFIXES)
        ),
        "aliases": tuple(getattr(cls, "compression_aliases", {}) or ()),
        "can_write": bool(getattr(cls, "rw", False)),
        "description": (cls.__doc__ or "").strip().split("\n")[0],
    }
    for name in spec_field_names():
        if hasattr(cls, f"format_{name}"):
            values[name] = getattr(cls, f"format_{name}")
    if "dtypes" not in values and "dtypes" not in overrides:
        values["dtypes"] = _probe_dtypes(cls)
    values.update(overrides)
    return FormatSpec(**values)


def _probe_dtypes(cls: type) -> tuple[str, ...]:
    """The numpy dtype names ``cls``'s header can store (imports numpy)."""
    try:
        import numpy as np

        from ..dtypes import supported_np_types

        return tuple(sorted(np.dtype(t).name for t in supported_np_types(cls)))
    except Exception:  # a class whose header cannot be probed declares no dtypes
        return ()

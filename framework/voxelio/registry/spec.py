"""``FormatSpec``: what a format plugin declares about its format, as data.

A plugin's ``voxelio_formats()`` hook returns one :class:`FormatSpec` per
format. The spec is everything the registry needs to *choose* a format (file
name suffixes, magic bytes, an optional pure sniff function) and to *find*
its code later (the image class as a lazy ``"module:attr"`` reference), so
discovery never imports reader code or numpy.

Construction validates the spec and raises :class:`InvalidSpecError` listing
every problem at once. Checks that need numpy (dtype names) run later, in
:func:`validate_spec`, when the registry adopts the spec.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._records import FrozenRecord, TupleRecord, field_at
from ..codecs.detect import COMPRESSED_SUFFIXES
from ..errors import VoxelioError

#: Version of the plugin contract this voxelio speaks. A spec declaring another
#: version is reported as broken instead of being half understood.
API_VERSION = 1

#: Most leading bytes a spec may ask to see; keeps sniffing cheap.
MAX_SNIFF_BYTES = 1 << 20

#: The content verdicts a sniff may give.
YES, WEAK, NO = "yes", "weak", "no"
VERDICTS = (YES, WEAK, NO)

DEFAULT_COMPRESSED_SUFFIXES = COMPRESSED_SUFFIXES

#: The colour dtypes as a spec (and a plugin's numpy-free code table) names them.
RGB_DTYPE = "[('R', 'u1'), ('G', 'u1'), ('B', 'u1')]"
RGBA_DTYPE = "[('R', 'u1'), ('G', 'u1'), ('B', 'u1'), ('A', 'u1')]"
# their fields, so that reading a colour format's code table needs no ``ast``
_STRUCTURED = {
    RGB_DTYPE: [("R", "u1"), ("G", "u1"), ("B", "u1")],
    RGBA_DTYPE: [("R", "u1"), ("G", "u1"), ("B", "u1"), ("A", "u1")],
}

# The shapes of names, references and suffixes are checked with sets of
# characters, not regular expressions: a load imports the entry module of the
# plugins it consults (for their sniff functions), which builds their specs, and
# compiling the patterns cost that process ~0.15 ms.
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


class InvalidSpecError(VoxelioError, ValueError):
    """A :class:`FormatSpec` (or what should be one) is malformed.

    The message names the spec and lists every problem found.
    """


class SniffResult(TupleRecord):
    """What a sniff function says about a file's leading bytes.

    Attributes
    ----------
    verdict : {'yes', 'weak', 'no'}
        'yes': the bytes are this format; 'weak': plausible, not proven;
        'no': certainly not this format (the format is excluded).
    evidence : str
        A short human-readable reason, shown by ``voxelio sniff`` and in
        error messages.
    strength : int
        How specific the evidence is, in the unit of magic bytes matched;
        ranks candidates with the same verdict.
    """

    __slots__ = ()
    _fields = ("verdict", "evidence", "strength")
    _field_defaults = {"evidence": "", "strength": 0}
    verdict = field_at(0, "'yes', 'weak' or 'no'.")
    evidence = field_at(1, "Why, in words.")
    strength = field_at(2, "How specific the evidence is (bytes of magic).")

    def __new__(cls, verdict: str, evidence: str = "", strength: int = 0) -> SniffResult:
        return tuple.__new__(cls, (verdict, evidence, strength))


class MagicRule(FrozenRecord):
    """Bytes expected at an offset of the (decompressed) file.

    Parameters
    ----------
    offset : int
        Byte offset from the start of the file that holds the magic.
    data : bytes
        The expected bytes; ``len(data)`` is the rule's strength.
    """

    _fields = ("offset", "data")

    def __init__(self, offset: int, data: bytes) -> None:
        vars(self).update(offset=offset, data=data)

    def matches(self, prefix: bytes) -> bool:
        """True when ``prefix`` holds ``data`` at ``offset``."""
        return prefix[self.offset : self.offset + len(self.data)] == self.data

    @property
    def end(self) -> int:
        """Number of leading bytes needed to test this rule."""
        return self.offset + len(self.data)


SniffFunction = Callable[[bytes, "str | None"], "SniffResult | str | None"]


class FormatSpec(FrozenRecord):
    """The declaration of one file format, returned by ``voxelio_formats()``.

    Parameters
    ----------
    name : str
        Unique lower-case format name (``'nifti1'``); what ``format=`` takes.
    image_class : str or type
        ``"module:attr"`` of the image class, imported only when the format is
        chosen. Runtime registrations may pass the class itself.
    extensions : tuple of str
        Suffixes of the format's files, with the leading dot (``('.nii',)``;
        a pair lists both, ``('.img', '.hdr')``). Matching ignores case.
    api_version : int
        The plugin contract version the spec was written for
        (:data:`API_VERSION`).
    files_types : tuple of (str, str or None)
        The image class's file types; defaults to one ``'image'`` file with
        the first extension.
    compressed_suffixes : tuple of str
        Suffixes that may follow an extension (``'.nii.gz'``); ``()`` if the
        format cannot be compressed.
    aliases : tuple of str
        Further complete suffixes naming the format (``'.mgz'``).
    magic : tuple of MagicRule or (offset, bytes)
        Content rules; any one matching gives the verdict 'yes'.
    sniff : callable, optional
        A pure function ``sniff(prefix, filespec)`` for logic beyond magic,
        returning a :class:`SniffResult`, a verdict string, or None to
        abstain. It receives at most ``sniff_bytes`` decompressed leading
        bytes (fewer for short files) and the file name or None. It must
        not raise and must not import heavy modules.
    sniff_bytes : int
        How many leading bytes the content rules need; defaults to what the
        magic rules need. Required (> 0) when ``sniff`` is given.
    sniff_file_type : str, optional
        Which file type holds the magic; defaults to 'header' when the
        format has one, else the first file type.
    exports : mapping of str to str
        Extra top-level attributes (``{'Nifti1Header': 'pkg.header:Nifti1Header'}``);
        the image class's own name is exported automatically.
    can_read, can_write : bool
        What the image class supports.
    dtypes : tuple of str
        Numpy dtype names the format stores (``'uint8'``, ``'<f4'``, a
        structured dtype as its list literal).
    supersedes : tuple of str
        Names of formats this one refines; it ranks above them when both
        accept a file (a NIfTI-1 pair is also a valid Analyze pair).
    priority : int
        Tie-breaker after ``supersedes``; higher ranks first.
    description : str
        One line for ``voxelio formats``.
    nibabel_class : str
        ``"module:attr"`` of the NiBabel image class that holds the same
        thing (``'nibabel.nifti1:Nifti1Image'``), used by ``img.to_nibabel()``
        and ``voxelio.from_nibabel()``; empty if there is none. NiBabel is
        imported only when the bridge is used.
    sniff_trusted : bool
        The plugin vouches that ``sniff`` is pure and answers promptly for
        any prefix (no I/O, no loop whose length the bytes decide). voxelio
        then calls it on the caller's thread, timed, instead of on a worker
        thread it stops waiting for after ``VOXELIO_SNIFF_TIMEOUT`` seconds:
        a sniff that overruns the budget is still reported and its format
        marked broken, but one that never returns would hang the load.
        Saves a thread hand-off per candidate format on every load; the
        first-party plugins declare it. Default False.

    Raises
    ------
    InvalidSpecError
        Listing every problem when the declaration is malformed. Names,
        ``module:attr`` references, suffixes, file types and ``supersedes``
        entries are taken whole: white space in them (a trailing newline
        from a file or a heredoc) is such a problem, naming the field.
        White space around a ``dtypes`` entry is dropped.
    """

    _fields = (
        "name", "image_class", "extensions", "api_version", "files_types",
        "compressed_suffixes", "aliases", "magic", "sniff", "sniff_bytes",
        "sniff_file_type", "exports", "can_read", "can_write", "dtypes", "supersedes",
        "priority", "description", "nibabel_class", "sniff_trusted",
    )
    # a sniff function has no meaningful equality (two loads of a spec)
    _compare = tuple(f for f in _fields if f != "sniff")

    def __init__(
        self,
        name: str,
        image_class: Any,
        extensions: tuple[str, ...] = (),
        api_version: int = API_VERSION,
        files_types: tuple[tuple[str, str | None], ...] = (),
        compressed_suffixes: tuple[str, ...] = DEFAULT_COMPRESSED_SUFFIXES,
        aliases: tuple[str, ...] = (),
        magic: tuple[MagicRule, ...] = (),
        sniff: SniffFunction | None = None,
        sniff_bytes: int = 0,
        sniff_file_type: str | None = None,
        exports: tuple[tuple[str, str], ...] = (),
        can_read: bool = True,
        can_write: bool = True,
        dtypes: tuple[str, ...] = (),
        supersedes: tuple[str, ...] = (),
        priority: int = 0,
        description: str = "",
        nibabel_class: str = "",
        sniff_trusted: bool = False,
    ) -> None:
        vars(self).update(
            name=name, image_class=image_class, extensions=extensions,
            api_version=api_version, files_types=files_types,
            compressed_suffixes=compressed_suffixes, aliases=aliases, magic=magic,
            sniff=sniff, sniff_bytes=sniff_bytes, sniff_file_type=sniff_file_type,
            exports=exports, can_read=can_read, can_write=can_write, dtypes=dtypes,
            supersedes=supersedes, priority=priority, description=description,
            nibabel_class=nibabel_class, sniff_trusted=sniff_trusted,
        )
        problems: list[str] = []
        _normalise(self, problems)
        if problems:
            raise InvalidSpecError(_problem_message(self.name, problems))

    # -- derived views -------------------------------------------------------
    @property
    def suffixes(self) -> tuple[str, ...]:
        """Every suffix that names this format: extensions, their compressed
        variants and aliases, lower case, longest first."""
        # worked out once per spec (its fields never change): every load asks
        found = self.__dict__.get("_suffixes")
        if found is None:
            names = {e.lower() for e in self.extensions} | {a.lower() for a in self.aliases}
            names |= {
                (e + c).lower() for e in self.extensions for c in self.compressed_suffixes
            }
            found = tuple(sorted(names, key=lambda s: (-len(s), s)))
            self.__dict__["_suffixes"] = found
        return found

    def match_suffix(self, filename: str) -> str:
        """The longest of :attr:`suffixes` that ``filename`` ends with, or ''."""
        lower = filename.lower()
        for suffix in self.suffixes:
            if lower.endswith(suffix) and len(lower) > len(suffix):
                return suffix
        return ""

    @property
    def export_map(self) -> dict[str, str | type]:
        """Top-level attribute name -> reference, image class included."""
        out: dict[str, Any] = {}
        ref = self.image_class
        attr = ref.rsplit(":", 1)[1].rsplit(".", 1)[-1] if isinstance(ref, str) else ref.__name__
        out[attr] = ref
        out.update(dict(self.exports))
        return out

    @property
    def image_class_ref(self) -> str:
        """The image class as a ``"module:attr"`` string (also for classes)."""
        ref = self.image_class
        if isinstance(ref, str):
            return ref
        return f"{ref.__module__}:{ref.__qualname__}"

    def file_map(self, filename: str) -> dict[str, Any]:
        """The file map of the files ``filename`` implies, named as this spec names them.

        Raises
        ------
        ImageFileError
            If ``filename`` does not end in one of the spec's suffixes.
        """
        from ..filemaps import filespec_to_file_map

        exts = self.extensions + self.aliases
        return filespec_to_file_map(filename, self.files_types, exts, self.compressed_suffixes)

    def load_image_class(self) -> type:
        """Import and return the image class (the only import of reader code)."""
        return resolve_ref(self.image_class)


def resolve_ref(ref: str | Any) -> Any:
    """Import ``"module:attr"`` (``attr`` may be dotted) and return the object.

    Objects that are not strings are returned as they are.
    """
    if not isinstance(ref, str):
        return ref
    module_name, _, attr_path = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        obj = getattr(obj, part)
    return obj


def parse_dtype(name: str) -> Any:
    """Return the numpy dtype a spec's dtype string names (imports numpy)."""
    import numpy as np

    text = name.strip()
    if text in _STRUCTURED:
        return np.dtype(_STRUCTURED[text])
    if text.startswith("["):
        import ast  # structured dtypes only: most specs never need it

        return np.dtype(ast.literal_eval(text))
    return np.dtype(text)


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


def _normalise(spec: FormatSpec, problems: list[str]) -> None:
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


def _problem_message(name: Any, problems: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"invalid FormatSpec {name!r}:\n{lines}"


def spec_field_names() -> tuple[str, ...]:
    """Names of the :class:`FormatSpec` fields (for building specs from classes)."""
    return FormatSpec._fields


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

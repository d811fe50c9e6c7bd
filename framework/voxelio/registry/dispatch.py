"""Choosing a format for a file: sniffing, ranking, and explaining refusals.

How ``voxelio.load`` ranks formats (total and deterministic):

1. Formats whose suffixes match the file name come first; formats that
   only recognise the content follow, so a NIfTI file named ``.dat``
   still loads. ``load`` consults the second group only when no format
   of the first accepts and reads the file: an unrelated plugin's sniff
   never runs (nor its code imported) for a file another format claims.
2. Within each group, by content verdict: 'yes' (a magic rule matched or
   the sniff said yes) > 'weak' > 'extension' (no content rules at all).
   A content 'no' excludes the format.
3. Then by evidence strength (bytes of magic matched, or the strength a
   sniff reports), higher first.
4. Then by the length of the matched suffix (``.nii.gz`` beats ``.gz``).
5. Then formats that ``supersede`` others rank above them (depth of the
   ``supersedes`` chain), then by ``priority``, higher first.
6. Finally by format name.

Content rules: a spec's magic rules are tested first; when it has magic and
none matches, the verdict is 'no' without calling ``sniff``. Otherwise
``sniff`` (if any) decides; returning None abstains and keeps the magic
verdict. Each file's leading bytes are read once, through decompression,
as many as the most demanding spec needs; every spec sees exactly its own
``sniff_bytes`` of them (fewer for a short file). For multi-file formats
the file holding the magic (``sniff_file_type``) is examined.

A plugin's sniff function runs with a time budget (:func:`sniff_budget`):
one that raises, or does not answer in time, is reported once and its
format is marked broken for the session (the candidate declines). A sniff
whose spec declares ``sniff_trusted`` runs on the caller's thread and is
judged by the time it took (:func:`call_timed`); any other runs on a worker
thread the caller stops waiting for when the budget is spent
(:mod:`.deadline`, imported only then).

The same tail of the key (suffix length, ``supersedes``, priority, name)
ranks writers in :func:`choose_writer`: one ranking for both directions.

When every format fails, the message depends on whether one of them
*claimed* the file (:func:`.refusals.claims`): its suffix matched the name,
its content rules said 'yes', and its evidence beats every other accepted
format's. Its clear refusal (a voxelio error) is then the error the user
sees (:func:`.refusals.claimed_message`), the other formats that failed
only named; otherwise :func:`.refusals.no_match_message` lists every format
and its reason. That code, with the hints, lives in :mod:`.refusals`, which
only a failed load imports; its names are offered here too.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._lazy import lazy_attributes
from .._records import FrozenRecord
from ..errors import ImageFileError
from ..filemaps import FileHolder, filespec_to_file_map
from .health import Cause, describe_exception
from .spec import NO, VERDICTS, YES, FormatSpec, SniffResult
from .store import FormatEntry, Registry

ENV_SNIFF_TIMEOUT = "VOXELIO_SNIFF_TIMEOUT"
DEFAULT_SNIFF_TIMEOUT = 2.0
EXTENSION_ONLY = "extension"
_VERDICT_RANK = {"yes": 2, "weak": 1, EXTENSION_ONLY: 0}


class Candidate(FrozenRecord):
    """One format's opinion about one file.

    Attributes
    ----------
    name : str
        Format name.
    verdict : {'yes', 'weak', 'extension', 'no'}
        Content verdict; 'extension' means the name matched and the format
        has no content rules; 'no' means the format declined.
    evidence : str
        Why, in words.
    by_extension : bool
        Whether the file name ends with one of the format's suffixes.
    suffix : str
        The matched suffix ('' if none).
    strength : int
        Strength of the content evidence.
    examined : str or None
        The file whose leading bytes were examined (the header of a pair).
    """

    _fields = ("name", "verdict", "evidence", "by_extension", "suffix", "strength", "examined",
               "key")
    _compare = _repr = _fields[:-1]  # the ranking key is derived from the others

    def __init__(
        self,
        name: str,
        verdict: str,
        evidence: str,
        by_extension: bool = False,
        suffix: str = "",
        strength: int = 0,
        examined: str | None = None,
        key: tuple = (),
    ) -> None:
        vars(self).update(
            name=name, verdict=verdict, evidence=evidence, by_extension=by_extension,
            suffix=suffix, strength=strength, examined=examined, key=key,
        )

    @property
    def accepted(self) -> bool:
        """True when the format is willing to try the file."""
        return self.verdict != NO


# -- content -------------------------------------------------------------------
def _normalise_sniff(value: Any) -> SniffResult | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = SniffResult(value)
    elif isinstance(value, tuple) and not isinstance(value, SniffResult):
        value = SniffResult(*value)
    if not isinstance(value, SniffResult) or value.verdict not in VERDICTS:
        raise TypeError(
            f"sniff returned {value!r}; expected a SniffResult, 'yes', 'weak', 'no' or None"
        )
    return value


def content_verdict(spec: FormatSpec, prefix: bytes, filespec: str | None) -> SniffResult | None:
    """What ``spec``'s content rules say about ``prefix`` (None: it has none).

    ``prefix`` is cut to ``spec.sniff_bytes``. Exceptions from the spec's
    sniff function propagate; so does a malformed return value (TypeError).
    """
    prefix = prefix[: spec.sniff_bytes]
    verdict: SniffResult | None = None
    if spec.magic:
        hits = [rule for rule in spec.magic if rule.matches(prefix)]
        if not hits:
            return SniffResult(NO, _no_magic(spec.magic))
        best = max(hits, key=lambda r: len(r.data))
        verdict = SniffResult(YES, f"magic {best.data!r} at offset {best.offset}", len(best.data))
    if spec.sniff is not None:
        said = _normalise_sniff(spec.sniff(prefix, filespec))
        if said is not None:
            strength = max(said.strength, verdict.strength if verdict else 0)
            evidence = "; ".join(e for e in (verdict and verdict.evidence, said.evidence) if e)
            verdict = SniffResult(said.verdict, evidence or f"sniff says {said.verdict}", strength)
    return verdict


def _no_magic(rules: tuple) -> str:
    """The refusal when no magic rule matches, naming up to three of the rules."""
    shown = rules[:3]
    texts = []
    for i, rule in enumerate(shown):
        # rules at one offset share it: "b'AB' or b'CD' at offset 4"
        if i + 1 < len(shown) and shown[i + 1].offset == rule.offset:
            texts.append(repr(rule.data))
        else:
            texts.append(f"{rule.data!r} at offset {rule.offset}")
    more = f" (nor {len(rules) - 3} other magic rules)" if len(rules) > 3 else ""
    return f"no magic {' or '.join(texts)}{more}"


# -- reading prefixes ------------------------------------------------------------
def _read_prefix(filename: str, nbytes: int) -> tuple[bytes, str]:
    """Up to ``nbytes`` decompressed leading bytes, and a note if reading stopped early.

    FileNotFoundError and IsADirectoryError propagate; decoding errors of a
    damaged compressed stream keep what was read and explain in the note.
    """
    from ..openfiles import current_load_hand_off, reading

    chunks: list[bytes] = []
    got = 0
    try:
        # the reader is left for the format's loader within voxelio.load
        with reading(FileHolder(filename=filename), hand_off=current_load_hand_off()) as stream:
            while got < nbytes:
                chunk = stream.read(nbytes - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
    except (FileNotFoundError, IsADirectoryError):
        raise
    except Exception as exc:  # zlib.error, EOFError, OSError, codec errors...
        return b"".join(chunks), f"reading stopped after {got} bytes: {describe_exception(exc)}"
    return b"".join(chunks), ""


class _Plan:
    """How one format will examine a file: the suffix matched, the file it reads."""

    # a plain class: a dataclass costs more to create at import than all the
    # plans of a load do
    __slots__ = ("declined", "entry", "examined", "suffix")

    def __init__(
        self, entry: FormatEntry, suffix: str, examined: str | None, declined: str = ""
    ) -> None:
        self.entry, self.suffix, self.examined, self.declined = entry, suffix, examined, declined


def _plan(entry: FormatEntry, path: str, suffix: str | None = None) -> _Plan:
    spec = entry.spec
    if suffix is None:
        suffix = spec.match_suffix(os.path.basename(path))
    if len(spec.files_types) == 1:
        return _Plan(entry, suffix, path)
    if not suffix:
        exts = ", ".join(spec.extensions)
        return _Plan(entry, "", None, f"multi-file format; the name must end in one of {exts}")
    try:
        file_map = filespec_to_file_map(
            path, spec.files_types, spec.extensions, spec.compressed_suffixes
        )
        return _Plan(entry, suffix, file_map[spec.sniff_file_type].filename)
    except Exception as exc:
        why = f"cannot derive its file names: {describe_exception(exc)}"
        return _Plan(entry, suffix, None, why)


def sniff_budget() -> float:
    """The sniff budget in seconds from ``VOXELIO_SNIFF_TIMEOUT`` (0: none)."""
    text = os.environ.get(ENV_SNIFF_TIMEOUT, "")
    try:
        value = float(text) if text.strip() else DEFAULT_SNIFF_TIMEOUT
    except ValueError:
        return DEFAULT_SNIFF_TIMEOUT
    return value if value > 0 else 0.0


def call_timed(function: Callable[..., Any], args: tuple, seconds: float) -> Any:
    """``function(*args)`` on this thread, refused if it took over ``seconds`` (0: no limit).

    Raises
    ------
    SniffTimeoutError
        If the call returned after its budget (its result is dropped, as a
        late answer from a worker thread would be).
    BaseException
        Whatever ``function`` raised.
    """
    if not seconds:
        return function(*args)
    start = time.perf_counter()
    result = function(*args)
    took = time.perf_counter() - start
    if took > seconds:
        from .deadline import SniffTimeoutError

        raise SniffTimeoutError(f"answered after {took:.3g} s, over its budget of {seconds:g} s")
    return result


def _examine(
    plan: _Plan, prefix: bytes, note: str, registry: Registry, budget: float
) -> tuple[str, str, int]:
    """The content verdict of ``plan``'s format; its sniff (if any) runs within ``budget``."""
    spec = plan.entry.spec
    if spec.sniff is None:
        budget = 0.0
    # magic rules are voxelio's own code, and a trusted sniff's plugin vouches
    # for it: neither needs a worker thread to be walked away from
    if spec.sniff_trusted or not budget:
        call = call_timed
    else:
        from .deadline import call_with_deadline as call
    try:
        said = call(content_verdict, (spec, prefix, plan.examined), budget)
    except Exception as exc:
        # a timeout's class comes from .deadline: imported only when one is raised
        from .deadline import SniffTimeoutError

        if isinstance(exc, SniffTimeoutError):
            cause = Cause(f"sniff {exc} ({ENV_SNIFF_TIMEOUT})")
        else:
            cause = Cause.from_exception("sniff raised", exc)
        registry.mark_format_broken(plan.entry, cause)
        return NO, str(cause), 0
    if note:
        note = f" ({note})"
    if said is None:
        if plan.suffix:
            return EXTENSION_ONLY, f"name ends in {plan.suffix}; no content rules", 0
        return NO, f"name does not end in {', '.join(spec.suffixes)}; no content rules", 0
    return said.verdict, said.evidence + note, said.strength


class _Prefixes:
    """Leading bytes of the files examined for one path, each file read once
    (again only when a later group of formats needs more bytes)."""

    def __init__(self) -> None:
        self._got: dict[str, tuple[int, tuple[bytes, str] | str]] = {}

    def get(self, filename: str, nbytes: int) -> tuple[bytes, str] | str:
        """``(prefix, note)``, or why the file cannot be read."""
        known = self._got.get(filename)
        if known is not None and known[0] >= nbytes:
            return known[1]
        try:
            got: tuple[bytes, str] | str = _read_prefix(filename, nbytes) if nbytes else (b"", "")
        except (FileNotFoundError, IsADirectoryError) as exc:
            got = f"{os.path.basename(filename)!r}: {describe_exception(exc)}"
        self._got[filename] = (nbytes, got)
        return got


def preference(spec: FormatSpec, suffix: str, registry: Registry) -> tuple:
    """The tail of every ranking key, for reading and for writing alike.

    Longer matched suffix first, then formats that ``supersede`` others,
    then higher ``priority``, then the format name.
    """
    return (-len(suffix), -registry.supersede_depth(spec.name), -spec.priority, spec.name)


def rank(
    path: str,
    registry: Registry,
    entries: Iterable[FormatEntry] | None = None,
    prefixes: _Prefixes | None = None,
    suffixes: dict[str, str] | None = None,
) -> list[Candidate]:
    """Every usable format's candidate for ``path``: accepted ones in trial order,
    then declined ones by name. ``path`` must exist.

    Sniff functions that raise or overrun their budget mark their format
    broken (the candidate declines with the cause). ``suffixes`` may give
    the suffix of ``path`` each format's name matches (by format name).
    """
    known = suffixes or {}
    plans = [
        _plan(e, path, known.get(e.name))
        for e in (registry.ok_entries() if entries is None else entries)
    ]
    needs: dict[str, int] = {}
    for plan in plans:
        if plan.examined is not None and not plan.declined:
            needs[plan.examined] = max(needs.get(plan.examined, 0), plan.entry.spec.sniff_bytes)
    prefixes = _Prefixes() if prefixes is None else prefixes
    got_by_file = {filename: prefixes.get(filename, n) for filename, n in needs.items()}
    accepted, declined = [], []
    budget = sniff_budget()  # read once for all the formats of this file
    for plan in plans:
        spec = plan.entry.spec
        got = got_by_file.get(plan.examined or "", ("", ""))
        if plan.declined or isinstance(got, str):
            reason = plan.declined or f"cannot read its {spec.sniff_file_type} file {got}"
            declined.append(Candidate(spec.name, NO, reason, bool(plan.suffix), plan.suffix))
            continue
        verdict, evidence, strength = _examine(plan, got[0], got[1], registry, budget)
        by_ext = bool(plan.suffix)
        if verdict == NO:
            declined.append(
                Candidate(spec.name, NO, evidence, by_ext, plan.suffix, 0, plan.examined)
            )
            continue
        key = (0 if by_ext else 1, -_VERDICT_RANK[verdict], -strength)
        key += preference(spec, plan.suffix, registry)
        accepted.append(
            Candidate(
                spec.name, verdict, evidence, by_ext, plan.suffix, strength, plan.examined, key
            )
        )
    accepted.sort(key=lambda c: c.key)
    declined.sort(key=lambda c: c.name)
    return accepted + declined


class Trial:
    """The candidates of one ``load``, in trial order, consulted lazily.

    Iterating yields the accepted candidates among the formats whose
    suffixes match the name; only when the caller asks for more (none of
    them read the file) are the remaining formats examined by content.
    :attr:`candidates` holds every candidate examined so far, as
    :func:`rank` orders them.
    """

    def __init__(self, path: str, registry: Registry, entries: Iterable[FormatEntry]) -> None:
        base = os.path.basename(path)
        entries = list(entries)
        self._suffixes = suffixes = {e.name: e.spec.match_suffix(base) for e in entries}
        named = [e for e in entries if suffixes[e.name]]
        self._others = [e for e in entries if not suffixes[e.name]]
        self._path, self._registry, self._prefixes = path, registry, _Prefixes()
        self.candidates = rank(path, registry, named, self._prefixes, suffixes)

    def __iter__(self) -> Iterator[Candidate]:
        yield from [c for c in self.candidates if c.accepted]
        if not self._others:
            return
        more = rank(self._path, self._registry, self._others, self._prefixes, self._suffixes)
        self._others = []
        first = [c for c in self.candidates if c.accepted]
        declined = [c for c in self.candidates + more if not c.accepted]
        declined.sort(key=lambda c: c.name)
        self.candidates = first + [c for c in more if c.accepted] + declined
        yield from [c for c in more if c.accepted]


# -- choosing a writer ------------------------------------------------------------------
def _class_matches(spec: FormatSpec, cls: type) -> bool:
    return spec.image_class is cls or spec.image_class == f"{cls.__module__}:{cls.__qualname__}"


def choose_writer(img: Any, filename: str, registry: Registry) -> FormatEntry:
    """The format ``save`` writes ``filename`` in.

    Among writable formats whose suffixes fit the name: the image's own
    class first, then the format that read it, then :func:`preference`.

    Raises
    ------
    ImageFileError
        If no installed format writes files named like ``filename``.
    """
    base = os.path.basename(filename)
    own = getattr(img, "format_name", None)
    keyed = []
    for entry in registry.ok_entries():
        suffix = entry.spec.match_suffix(base)
        if not suffix or not entry.spec.can_write:
            continue
        key = (not _class_matches(entry.spec, type(img)), entry.name != own)
        keyed.append((key + preference(entry.spec, suffix, registry), entry))
    if keyed:
        return min(keyed, key=lambda item: item[0])[1]
    writable = sorted(
        {s for e in registry.ok_entries() if e.spec.can_write for s in e.spec.suffixes}
    )
    lines = [f"cannot save {filename!r}: no installed format writes files named like this"]
    lines.append(f"writable suffixes: {', '.join(writable) or '(none)'}")
    from .refusals import install_hints

    lines += [f"hint: {h}" for h in install_hints(filename, registry)]
    raise ImageFileError("\n".join(lines))


# -- before reading -------------------------------------------------------------------
def check_readable_file(path: str) -> None:
    """Raise FileNotFoundError for a missing file, ImageFileError for an empty one or
    one that is not a regular file (a FIFO would block)."""
    try:
        st = os.stat(path)  # one call answers every question below
    except (OSError, ValueError):  # as os.path.exists says False
        raise FileNotFoundError(2, "No such file or directory", path) from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageFileError(f"{path!r} is a directory, not an image file")
    from .._fileidentity import check_regular

    check_regular(st, path)
    if st.st_size == 0:
        raise ImageFileError(f"{path!r} is empty (0 bytes): there is no image to read")


# the failure messages and hints, imported when a load fails (see the docstring)
_REFUSALS = {
    name: "voxelio.registry.refusals"
    for name in ("claims", "claimed_message", "content_hints", "install_hints",
                 "no_match_message")
}
__getattr__, __dir__ = lazy_attributes(globals(), _REFUSALS)

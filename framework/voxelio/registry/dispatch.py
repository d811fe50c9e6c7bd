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

A plugin's sniff function runs with a time budget (:mod:`.deadline`): one
that raises, or does not answer in time, is reported once and its format
is marked broken for the session (the candidate declines). A sniff whose
spec declares ``sniff_trusted`` runs on the caller's thread and is judged
by the time it took; any other runs on a worker thread the caller stops
waiting for when the budget is spent.

The same tail of the key (suffix length, ``supersedes``, priority, name)
ranks writers in :func:`choose_writer`: one ranking for both directions.

When every format fails, the message depends on whether one of them
*claimed* the file (:func:`claims`): its suffix matched the name, its
content rules said 'yes', and its evidence beats every other accepted
format's. Its clear refusal (a voxelio error) is then the error the user
sees (:func:`claimed_message`), the other formats that failed only named;
otherwise :func:`no_match_message` lists every format and its reason.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from typing import Any

from .._records import FrozenRecord
from ..errors import ImageFileError
from ..filemaps import FileHolder, filespec_to_file_map
from .deadline import (
    ENV_SNIFF_TIMEOUT,
    SniffTimeoutError,
    call_timed,
    call_with_deadline,
    sniff_budget,
)
from .health import Cause, describe_exception
from .spec import NO, VERDICTS, YES, FormatSpec, SniffResult
from .store import FormatEntry, Registry

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


def _examine(
    plan: _Plan, prefix: bytes, note: str, registry: Registry, budget: float
) -> tuple[str, str, int]:
    """The content verdict of ``plan``'s format; its sniff (if any) runs within ``budget``."""
    spec = plan.entry.spec
    if spec.sniff is None:
        budget = 0.0
    # magic rules are voxelio's own code, and a trusted sniff's plugin vouches
    # for it: neither needs a worker thread to be walked away from
    call = call_timed if spec.sniff_trusted else call_with_deadline
    try:
        said = call(content_verdict, (spec, prefix, plan.examined), budget)
    except SniffTimeoutError as exc:
        cause = Cause(f"sniff {exc} ({ENV_SNIFF_TIMEOUT})")
        registry.mark_format_broken(plan.entry, cause)
        return NO, str(cause), 0
    except Exception as exc:
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
    lines += [f"hint: {h}" for h in install_hints(filename, registry)]
    raise ImageFileError("\n".join(lines))


# -- the failure message --------------------------------------------------------------
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


def install_hints(path: str, registry: Registry) -> list[str]:
    """Advice for file names that a known but unavailable plugin would read."""
    from .known import known_for_filename  # here: only failed loads need the table

    hints = []
    for known in known_for_filename(os.path.basename(path)):
        entry = registry.entries.get(known.name)
        if entry is not None and entry.ok:
            continue
        plugin = next((p for p in registry.plugins if p.distribution == known.distribution), None)
        if entry is not None:
            state = f"is installed but broken ({entry.status})"
        elif plugin is not None:
            state = f"is installed but {plugin.status}"
        else:
            state = f"is not installed: pip install {known.distribution}"
        hints.append(
            f"format {known.name!r} (files {', '.join(known.suffixes)}) comes with "
            f"{known.distribution}, which {state}"
        )
    return hints


def content_hints(path: str, registry: Registry | None = None) -> list[str]:
    """What the raw leading bytes say when no format accepts a file (text, wrong suffix)."""
    from .. import codecs

    try:
        from .._fileidentity import open_regular

        with open_regular(path) as f:
            raw = f.read(4096)
    except (OSError, ImageFileError):
        return []
    hints = []
    known = _known_content(raw, registry)
    if known is not None:
        return [known]
    named = codecs.compression_from_name(path)
    if named is not None and codecs.detect_compression(raw) is None:
        hints.append(f"the name says {named}-compressed, but the content is not compressed")
    if raw and all(32 <= b < 127 or b in b"\t\r\n" for b in raw):
        first = raw.decode("ascii").strip().splitlines()[0][:80] if raw.strip() else ""
        hints.append(
            "the file holds plain text, not image data (a Git LFS pointer, a download "
            f"error page?): it starts {first!r}"
        )
    return hints


def _known_content(raw: bytes, registry: Registry | None) -> str | None:
    """'this looks like X...' when the leading bytes carry a known format's signature."""
    import zlib

    from .known import known_by_content

    prefix = raw
    if raw[:2] == b"\x1f\x8b":  # gzip: look at what it holds
        try:
            prefix = zlib.decompressobj(47).decompress(raw, 1024)
        except zlib.error:
            return None
    sig = known_by_content(prefix)
    if sig is None:
        return None
    entry = registry.entries.get(sig.format_name) if registry and sig.format_name else None
    if entry is not None and entry.ok:
        return None  # a plugin reads it: the file itself is at fault
    text = f"this looks like {sig.label}; no installed plugin reads {sig.label.split()[0]}"
    if sig.distribution:
        text += f" (pip install {sig.distribution})"
    return text


def claims(key: tuple, others: Iterable[tuple]) -> bool:
    """Whether the candidate ranked by ``key`` claims the file over the ``others``.

    A claim: the name ends in one of the format's suffixes, its content
    rules said 'yes', and no other accepted candidate has evidence as
    strong (same name match, verdict and strength). Two formats with equal
    evidence claim nothing: neither refusal is more telling than the other.
    """
    evidence = key[:3]
    if evidence[:2] != (0, -_VERDICT_RANK[YES]):
        return False
    return all(other[:3] > evidence for other in others)


def claimed_message(shown: str, name: str, refusal: BaseException, others: list[str]) -> str:
    """The ImageFileError text when format ``name``, which claimed the file, refused it.

    ``refusal`` is the format's own error (its message names the problem);
    ``others`` are the formats that also tried and failed, named in a hint.
    A one-line refusal that names the file already is not prefixed with it.
    """
    text = str(refusal)
    if shown in text and "\n" not in text:
        lines = [f"{text} (read as {name})"]
    else:
        lines = [f"cannot read {shown} as {name}: {text}"]
    if others:
        also = ", ".join(dict.fromkeys(n for n in others if n != name))
        if also:
            lines.append(
                f"hint: {also} also tried the file and failed "
                "(`voxelio sniff FILE` shows how each format judges it)"
            )
    return "\n".join(lines)


def no_match_message(
    path: str,
    candidates: list[Candidate],
    failures: list[tuple[str, str]],
    registry: Registry,
) -> str:
    """The ImageFileError text when no format could read ``path``."""
    hints = content_hints(path, registry) + install_hints(path, registry)
    looks_like = [h for h in hints if h.startswith("this looks like")]
    why = looks_like[0] if looks_like else "no installed format could read it"
    lines = [f"cannot read {path!r}: {why}"]
    if failures:
        lines.append("formats that tried and failed:")
        lines += [f"  - {name}: {why}" for name, why in failures]
    tried = {name for name, _ in failures}
    rest = [c for c in candidates if c.name not in tried]
    if rest:
        lines.append("formats that declined:")
        lines += [f"  - {c.name}: {c.evidence}" for c in rest]
    if not candidates and not failures:
        lines.append("no formats are installed (see `voxelio formats`)")
    # a plugin that broke while this load consulted it is listed above only
    consulted = tried | {c.name for c in candidates}
    seen = [registry.entries[n].plugin for n in consulted if n in registry.entries]
    broken = [p for p in registry.broken_plugins() if not any(p is s for s in seen)]
    broken_formats = [
        e for e in registry.entries.values()
        if not e.ok and e.plugin.ok and e.name not in consulted
    ]
    if broken or broken_formats:
        lines.append("broken plugins (not consulted):")
        lines += [f"  - {p.label}: {p.state.cause}" for p in broken]
        lines += [
            f"  - format {e.name!r} of {e.plugin.label}: {e.state.cause}" for e in broken_formats
        ]
    hints = [h for h in hints if h not in looks_like]
    if hints:
        lines.append("hint:")
        lines += [f"  - {h}" for h in hints]
    return "\n".join(lines)

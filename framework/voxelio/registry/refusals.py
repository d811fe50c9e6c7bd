"""Why a load failed: hints, claims and the error message (failed loads only).

When no format reads a file, :func:`voxelio.load` explains: the refusal of
the format that *claimed* the file (:func:`claims`, :func:`claimed_message`)
or every format's reason (:func:`no_match_message`), with hints from the
raw bytes (:func:`content_hints`) and from the table of known plugins
(:func:`install_hints`). A module of its own: a load that succeeds never
imports it. :mod:`.dispatch` still offers these names.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..errors import ImageFileError
from .dispatch import _VERDICT_RANK, Candidate
from .spec import YES
from .store import Registry


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

"""What is wrong with an image file: header problems, missing files.

:func:`diagnose` serves ``voxelio check``. A file that loads is judged by
what its format's header checks fixed while loading and still find, and by
whether every file of its file map is there. A file that does not load
(a pair whose data file is missing or short is refused by the load) is
examined without loading: its
format is chosen as ``voxelio.load`` would (content, then name), or given,
and that format's header class reads the raw header with its checks off
(``from_fileobj(..., check=False)``), then runs them (``check()``), so a
header with ``dim[0] = 9`` or an unknown data type is reported problem by
problem rather than as "cannot be read". Everything here goes through the
header protocol; no format is named.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .errors import VoxelioError

#: problem levels (as in the logging module) from which a problem is an error
ERROR_LEVEL = 40
WARNING_LEVEL = 20


@dataclass(frozen=True)
class Finding:
    """One problem found in a file.

    Attributes
    ----------
    level : int
        Problem level: 10 note, 20-39 warning, 40 and above error.
    message : str
        What is wrong (and, for a fixed problem, how it was fixed).
    fixed_on_load : bool
        Whether loading the file mended it (in memory; the file is unchanged).
    fixable : bool
        Whether the format's checks can mend it.
    """

    level: int
    message: str
    fixed_on_load: bool = False
    fixable: bool = False

    @property
    def severity(self) -> str:
        """'error', 'warning' or 'note'."""
        return level_word(self.level)


@dataclass
class Diagnosis:
    """What :func:`diagnose` found in one file.

    Attributes
    ----------
    path : str
        The file examined.
    format_name : str or None
        The format it was examined as (None if none could be chosen).
    image : SpatialImage or None
        The loaded image; None when the file does not load.
    how : str
        How the format was chosen, for a file examined without loading
        ('content', 'name' or 'given'); '' for a loaded file.
    findings : list of Finding
        Every problem, most serious first within each group.
    has_checks : bool
        Whether the format's header has checks at all.
    byte_order : str
        For a file examined without loading: the byte order its header was
        read in ('little-endian', 'big-endian'), '' if unknown.
    """

    path: str
    format_name: str | None = None
    image: Any = None
    how: str = ""
    findings: list[Finding] = field(default_factory=list)
    has_checks: bool = True
    byte_order: str = ""

    @property
    def errors(self) -> list[Finding]:
        """The findings at error level."""
        return [f for f in self.findings if f.level >= ERROR_LEVEL]


def level_word(level: int) -> str:
    """A problem level in words: 'error' (40+), 'warning' (20-39) or 'note'."""
    if level >= ERROR_LEVEL:
        return "error"
    return "warning" if level >= WARNING_LEVEL else "note"


def diagnose(path: str | os.PathLike, format: str | None = None) -> Diagnosis:
    """Examine ``path``: load it if possible, else check its raw header.

    Parameters
    ----------
    path : str or os.PathLike
        The file (for a pair, either of its files).
    format : str, optional
        Examine it as this format instead of detecting it.

    Returns
    -------
    Diagnosis

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    VoxelioError
        If no format can be chosen to examine a file that does not load
        (the error of the load, which says why every format declined).
    """
    from .api import load

    path = os.fspath(path)
    if not os.path.lexists(path):
        raise FileNotFoundError(2, "no such file", path)
    try:
        img = load(path, format=format)
    except VoxelioError as err:
        return _diagnose_raw(path, format, err)
    found = Diagnosis(path, img.format_name, img)
    header = img.header
    if not hasattr(header, "check"):
        found.has_checks = False
    else:
        loaded = list(getattr(header, "load_reports", ()))
        found.findings += [_finding(r, fixed_on_load=bool(r.fix_msg)) for r in loaded]
        reported = {r.problem_msg for r in loaded}
        found.findings += [
            _finding(r) for r in header.check() if r.problem_msg not in reported
        ]
    found.findings += _file_findings(img.file_map)
    return found


def _finding(report: Any, *, fixed_on_load: bool = False, fixable: bool | None = None) -> Finding:
    return Finding(
        int(report.problem_level),
        report.message if fixed_on_load else report.problem_msg,
        fixed_on_load,
        bool(report.fix_msg) if fixable is None else fixable,
    )


# -- files of the file map ---------------------------------------------------------------
def _file_findings(file_map: Any) -> list[Finding]:
    """The files of the map that are missing (a load reads the data file only when asked)."""
    findings = []
    for file_type, holder in sorted(file_map.items()):
        name = getattr(holder, "filename", None)
        if name and not os.path.exists(name):
            findings.append(Finding(ERROR_LEVEL, f"the {file_type} file {name} is missing"))
    return findings


def header_without_data(
    path: str | os.PathLike, format: str | None = None
) -> tuple[str, Any, list[str]] | None:
    """The header of a file set whose data file is missing, read on its own.

    For ``voxelio info`` on a header kept without its data (a load refuses
    such a file set). The format is chosen as :func:`diagnose` chooses it.

    Returns
    -------
    tuple or None
        (format name, header, names of the missing files); None when no
        file of the set is missing, the header's own file is, or no format
        can be chosen.

    Raises
    ------
    VoxelioError
        If the header itself cannot be read.
    """
    from .api import _image_class
    from .imagefiles import header_file_type
    from .registry.store import get_registry

    path = os.fspath(path)
    entry, _ = _chosen_format(path, format)
    if entry is None:
        return None
    klass = _image_class(entry, get_registry())
    if not hasattr(klass, "_read_header"):
        return None
    try:
        file_map = klass.filespec_to_file_map(path)
    except VoxelioError:
        return None
    header_type = header_file_type(klass.files_types)
    missing = {
        file_type: os.fspath(holder.filename) for file_type, holder in file_map.items()
        if getattr(holder, "filename", None) and not os.path.exists(holder.filename)
    }
    if not missing or header_type in missing:
        return None
    return entry.name, klass._read_header(file_map), sorted(missing.values())


# -- files that do not load ------------------------------------------------------------------
def _diagnose_raw(path: str, format: str | None, load_error: VoxelioError) -> Diagnosis:
    entry, how = _chosen_format(path, format)
    if entry is None:
        raise load_error
    found = Diagnosis(path, entry.name, how=how)
    from .api import _image_class
    from .registry.store import get_registry

    klass = _image_class(entry, get_registry())
    header_class = klass.header_class
    try:
        file_map = klass.filespec_to_file_map(path)
    except VoxelioError:  # a name the format does not use (--format): the file holds it all
        from .filemaps import FileHolder

        file_map = {file_type: FileHolder(path) for file_type, _ in klass.files_types}
    found.findings += _file_findings(file_map)
    if not hasattr(header_class, "from_fileobj") or not hasattr(header_class, "check"):
        found.has_checks = False
    else:
        header_holder = file_map.get("header", file_map.get("image"))
        name = getattr(header_holder, "filename", None)
        if name and os.path.exists(name):
            findings, found.byte_order = _raw_header_findings(header_holder, header_class)
            found.findings += findings
    if not any(f.level >= ERROR_LEVEL for f in found.findings):
        # the checks miss what made the load fail (data, extensions...): the
        # chosen format's own reason says it
        found.findings.append(Finding(ERROR_LEVEL, _why_not_loaded(path, entry.name, load_error)))
    return found


def _why_not_loaded(path: str, format_name: str, load_error: VoxelioError) -> str:
    """The first line of the error of loading ``path`` as ``format_name``."""
    from .api import load

    try:
        load(path, format=format_name)
    except VoxelioError as err:
        load_error = err
    text = str(load_error).splitlines()[0] if str(load_error) else type(load_error).__name__
    return f"cannot load: {text}"


def _chosen_format(path: str, format: str | None) -> tuple[Any, str]:
    """The registry entry to examine ``path`` as, and how it was chosen."""
    from .api import _entry_for, sniff
    from .registry.store import get_registry

    reg = get_registry()
    if format is not None:
        return _entry_for(format, reg, "read"), "given"
    candidates = sniff(path)
    for cand in candidates:
        if cand.accepted:
            how = "content" if cand.verdict in ("yes", "weak") else "name"
            return reg.entries[cand.name], how
    for cand in candidates:
        if cand.by_extension:
            return reg.entries[cand.name], "name"
    return None, ""


def _raw_header_findings(holder: Any, header_class: Any) -> tuple[list[Finding], str]:
    """The header checks on the stored header, and the byte order it was read in.

    A header is read in the byte order its class guesses, then in the
    other one: a guess made from a damaged field (a dimension count out of
    range in both orders, say) would otherwise bury the real problem under
    the nonsense every other field becomes when swapped. The order whose
    checks find less wrong is kept.
    """
    from .openfiles import reading

    tried: list[tuple[tuple[int, int], list[Finding], str]] = []
    failure = ""
    order: str | None = None
    for _ in range(2):
        try:
            with reading(holder, "header file") as stream:
                hdr = header_class.from_fileobj(stream, **_order(order), check=False)
            reports = hdr.check()
            fixable = {r.problem_msg for r in hdr.copy().check(fix=True) if r.fix_msg}
        except (VoxelioError, OSError, ValueError) as err:
            failure = failure or str(err)
            break
        findings = [_finding(r, fixable=r.problem_msg in fixable) for r in reports]
        read_as = getattr(hdr, "endianness", "")
        tried.append(((max((f.level for f in findings), default=0), len(findings)), findings,
                      read_as))
        if read_as not in ("<", ">") or not findings:
            break
        order = "<" if read_as == ">" else ">"
    if not tried:
        return [Finding(ERROR_LEVEL, f"cannot read the header: {failure}")], ""
    _, findings, read_as = min(tried, key=lambda t: t[0])  # the guess wins ties
    words = {"<": "little-endian", ">": "big-endian"}
    return sorted(findings, key=lambda f: -f.level), words.get(read_as, "")


def _order(order: str | None) -> dict[str, Any]:
    """``from_fileobj`` keyword for a byte order: none for the header's own guess."""
    return {} if order is None else {"endianness": order}

"""The ``voxelio`` command (also ``python -m voxelio``).

Sub-commands: ``formats``, ``info FILE...``, ``sniff FILE...``,
``convert IN OUT``, ``check FILE... [--fix OUT]``.

Exit status: 0 when everything worked, 1 when some file failed (could not
be read or written, ``sniff`` found no format, or ``check`` found errors),
3 when ``check`` found only warnings and notes, 2 for usage errors.
Errors go to stderr as one message without a traceback, unless
``--debug`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

from .codecs.detect import COMPRESSED_SUFFIXES
from .registry.discovery import PluginWarning

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: ``voxelio check``: only warnings and notes (fixable; the data can be read)
EXIT_WARNINGS = 3


class _UsageError(Exception):
    """A command failed in an expected way; its message is for the user."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        with warnings.catch_warnings(), _messages_about_files(args.command) as messages:
            warnings.showwarning = messages.show_warning
            if args.command == "formats":  # the table shows broken plugins already
                warnings.simplefilter("ignore", PluginWarning)
            return args.run(args, sys.stdout)
    except KeyboardInterrupt:
        print("voxelio: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `voxelio info -v x | head`: the reader has all it wanted
        _quiet_stdout()
        return EXIT_FAILED
    except Exception as exc:
        if args.debug:
            raise
        _error(exc)
        return EXIT_FAILED


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that flushing it at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class _FileMessages:
    """Warnings and header log lines, each shown once, naming the file being worked on.

    The header checks log what they find and fix while a file loads, without
    knowing its name; ``voxelio check`` prints those problems itself, so its
    log lines are dropped (``silent``).
    """

    def __init__(self, silent: bool) -> None:
        self.current: str | None = None
        self.silent = silent
        self._seen: set[tuple[str | None, str]] = set()

    def show(self, word: str, text: str, about_file: bool = True) -> None:
        where = self.current if about_file else None
        if self.silent or (where, text) in self._seen:
            return
        self._seen.add((where, text))
        prefix = f"{where}: " if where else ""
        print(f"voxelio: {prefix}{word}: {text}", file=sys.stderr)

    def show_warning(self, message: Any, category: type, *args: Any, **kwargs: Any) -> None:
        # a broken plugin is news about the environment, not about the file
        self.show("warning", str(message), about_file=not issubclass(category, PluginWarning))


#: the messages of the command being run (None outside :func:`main`)
_MESSAGES: _FileMessages | None = None


@contextlib.contextmanager
def _messages_about_files(command: str) -> Iterator[_FileMessages]:
    """Route the ``voxelio`` loggers' records through a :class:`_FileMessages`."""
    import logging

    from .diagnosis import level_word

    global _MESSAGES
    messages = _FileMessages(silent=False)

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if command != "check":  # check prints every problem it finds itself
                problem = getattr(record, "voxelio_problem", None) or record.getMessage()
                messages.show(level_word(record.levelno), problem)

    logger = logging.getLogger("voxelio")
    handler = Handler()
    logger.addHandler(handler)
    saved, _MESSAGES = _MESSAGES, messages
    try:
        yield messages
    finally:
        _MESSAGES = saved
        logger.removeHandler(handler)


def _working_on(name: str | None) -> None:
    """Messages from now on are about the file ``name``."""
    if _MESSAGES is not None:
        _MESSAGES.current = name


def _error(exc: BaseException, about: str | None = None) -> None:
    """Print ``exc`` as one line on stderr, after the name of the file it is ``about``."""
    text = str(exc) if isinstance(exc, _UsageError) else _describe(exc, about)
    print(f"voxelio: {about + ': ' if about else ''}{text}", file=sys.stderr)


def _describe(exc: BaseException, about: str | None = None) -> str:
    """The error in words; the file the line already names is not named again."""
    if isinstance(exc, FileNotFoundError) and exc.filename:
        missing = os.fspath(exc.filename)
        return "no such file" if missing == about else f"no such file: {missing}"
    name = type(exc).__name__
    text = str(exc)
    if about is not None:  # "voxelio: x.nii: cannot read 'x.nii'" names it twice
        if text.startswith(f"cannot read {about!r}: "):
            text = text[len(f"cannot read {about!r}: "):]
        elif text.startswith(f"cannot read {about!r} as "):
            text = "cannot read as " + text[len(f"cannot read {about!r} as "):]
    return f"{name}: {text}" if text else name


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``voxelio`` command.

    The documentation's command-line reference is generated from it, so
    every sub-command, argument and help text shows up there as it is here.

    Returns
    -------
    argparse.ArgumentParser
        A new parser; each sub-command's parser is reachable through its
        sub-parsers action.
    """
    return _parser()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voxelio", description="Inspect and convert neuro-imaging volumes."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    # --debug after the subcommand too; SUPPRESS keeps one given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add = sub.add_parser

    def add_parser(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return _add(name, parents=[common], **kwargs)

    sub.add_parser = add_parser  # type: ignore[method-assign]

    p = sub.add_parser("formats", help="list installed formats and plugin health")
    p.add_argument("-v", "--verbose", action="store_true", help="image classes and environment")
    p.set_defaults(run=cmd_formats)

    p = sub.add_parser("info", help="one line per image: format, dtype, shape, zooms, scaling")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-v", "--verbose", action="store_true", help="affine and files too")
    p.add_argument("--format", help="read as this format instead of detecting it")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("sniff", help="how each format judges a file, in trial order")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(run=cmd_sniff)

    p = sub.add_parser(
        "convert", help="save images in another format (IN OUT, or IN... --to DIR)",
        description="Convert IN to OUT (format from OUT's name or --format), or every IN "
        "(names or glob patterns) into the folder --to DIR. One summary line per file.")
    p.add_argument("paths", nargs="+", metavar="IN [OUT]")
    p.add_argument("--to", metavar="DIR", help="write every IN into DIR (same base name, "
                   "the suffix of --format, or IN's suffix); IN's compression is kept where "
                   "the format allows it (.nii.gz -> .mgz, .mgz -> .nii.gz, .mgh -> .nii): "
                   "convert IN OUT to choose another")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary lines, no progress bar")
    p.add_argument("--dtype", help="on-disk data type of OUT (numpy name, e.g. int16)")
    p.add_argument("--format", help="format of OUT instead of choosing by its name")
    p.add_argument("--in-format", help="format of IN instead of detecting it")
    p.set_defaults(run=cmd_convert)

    p = sub.add_parser(
        "check", help="report header and file problems (exit 3: warnings only, 1: errors)",
        description="Report the problems of each FILE's header (as its format's checks "
        "see them: what loading fixed, what remains) and files (a missing .img of a pair, "
        "an image file shorter than its header says). A FILE that does not load is "
        "examined without loading: its format is chosen from its content and name (or "
        "--format) and that format's checks run on the header as stored.",
        epilog="exit status: 0 no problems (or all fixed in the copy --fix wrote); "
        "3 warnings and notes only (the file loads; --fix writes a copy with what the "
        "checks can mend mended); 1 errors, or a file that cannot be examined; "
        "2 usage errors")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-v", "--verbose", action="store_true", help="numeric problem levels too")
    p.add_argument("--format", help="examine FILE as this format instead of detecting it")
    p.add_argument("--fix", metavar="OUT", help="write a fixed copy of the (single) FILE to OUT")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("new-plugin", help="write a new format-plugin distribution to start from")
    p.add_argument("name", metavar="NAME", help="format name: a lower-case word (e.g. blob)")
    p.add_argument("--directory", default=".", help="where voxelio-NAME/ is created")
    p.set_defaults(run=cmd_new_plugin)
    return parser


def cmd_new_plugin(args: argparse.Namespace, out: TextIO) -> int:
    """``voxelio new-plugin NAME``: the scaffold of :mod:`voxelio.scaffold`."""
    from .scaffold import write_plugin

    try:
        root = write_plugin(args.name, args.directory)
    except (ValueError, FileExistsError) as err:
        raise _UsageError(str(err)) from None
    print(f"wrote {root}", file=out)
    print(f"next: pip install -e {root} && pytest {root / 'tests'}", file=out)
    return 0


# -- formats ---------------------------------------------------------------------------
def cmd_formats(args: argparse.Namespace, out: TextIO) -> int:
    """``voxelio formats``: a table of formats; broken plugins included."""
    from .api import environment_report, formats

    rows = [("NAME", "DISTRIBUTION", "EXTENSIONS", "DTYPES", "R/W", "STATUS")]
    for info in formats():
        dist = f"{info.distribution} {info.version}" if info.distribution else info.plugin
        rw = ("r" if info.can_read else "-") + ("w" if info.can_write else "-")
        plain = [e for e in info.extensions if not e.endswith(COMPRESSED_SUFFIXES)]
        exts = " ".join(sorted(plain))
        if len(plain) < len(info.extensions):
            exts += f" (+{' '.join(COMPRESSED_SUFFIXES)})"
        dtypes = " ".join(_short_dtype(d) for d in info.dtypes)
        rows.append((info.name, dist, exts, dtypes, rw, info.status))
        if args.verbose:
            rows.append(("", f"  class {info.image_class or '-'}", info.description, "", "", ""))
    _table(rows, out)
    if args.verbose:
        for section, facts in environment_report().items():
            print(f"\n[{section}]", file=out)
            for key, value in facts.items():
                print(f"  {key}: {value}", file=out)
    return EXIT_OK


def _table(rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        print("  ".join([*cells, row[-1]]).rstrip(), file=out)


# -- info ------------------------------------------------------------------------------
def _each_file(files: Sequence[str], work: Callable[[str], None], debug: bool) -> int:
    """Run ``work`` on every file; report failures and go on."""
    status = EXIT_OK
    for name in files:
        _working_on(name)
        try:
            work(name)
        except BrokenPipeError:  # our output is gone, not a problem of this file
            raise
        except Exception as exc:
            if debug:
                raise
            _error(exc, name)
            status = EXIT_FAILED
    return status


def cmd_info(args: argparse.Namespace, out: TextIO) -> int:
    """``voxelio info``: format, dtype, shape, zooms and scaling of each file."""
    from .api import load
    from .errors import VoxelioError

    width = max(len(f) for f in args.files)

    def show(name: str) -> None:
        try:
            img = load(name, format=args.format)
        except VoxelioError:
            if not _show_header_alone(name, args, width, out):
                raise
            return
        print(f"{name.ljust(width)}  {_summary(img)}", file=out)
        if args.verbose:
            for line in _details(img):
                print(f"    {line}", file=out)

    return _each_file(args.files, show, args.debug)


def _show_header_alone(name: str, args: argparse.Namespace, width: int, out: TextIO) -> bool:
    """The info of a header whose data file is missing (a load refuses it); False if not so."""
    from .diagnosis import header_without_data
    from .errors import VoxelioError

    try:
        found = header_without_data(name, args.format)
    except VoxelioError:
        return False
    if found is None:
        return False
    format_name, header, missing = found
    slope, inter = header.get_slope_inter()
    summary = _summary_of(
        format_name, header.get_data_dtype(), header.get_data_shape(), _zooms_of(header),
        1.0 if slope is None else slope, 0.0 if inter is None else inter,
    )
    gone = ", ".join(missing)
    print(f"{name.ljust(width)}  {summary}  (header only: {gone} does not exist)", file=out)
    if args.verbose:
        for line in _header_alone_details(name, format_name, header, missing):
            print(f"    {line}", file=out)
    return True


def _header_alone_details(
    name: str, format_name: str, header: Any, missing: list[str]
) -> list[str]:
    """:func:`_details` for a header whose data file is missing: what a load would give."""
    from .api import _image_class
    from .registry.store import get_registry

    klass = _image_class(get_registry().entries[format_name], get_registry())
    best = getattr(header, "get_best_affine", None)
    files = [
        (file_type, os.fspath(holder.filename))
        for file_type, holder in sorted(klass.filespec_to_file_map(name).items())
    ]
    return _details_of(
        klass, header.get_data_dtype(), best() if callable(best) else None, files, header,
        missing=set(missing),
    )


def _summary(img: Any) -> str:
    return _summary_of(
        img.format_name, img.get_data_dtype(), img.shape, _zooms(img),
        getattr(img.dataobj, "slope", 1.0), getattr(img.dataobj, "inter", 0.0),
    )


def _summary_of(
    format_name: Any, dtype: Any, shape: Sequence[int], zooms: tuple[float, ...],
    slope: Any, inter: Any,
) -> str:
    parts = [
        str(format_name),
        _dtype_label(dtype),
        "[" + ", ".join(str(n) for n in shape) + "]",
        "zooms " + ("(" + ", ".join(f"{z:g}" for z in zooms) + ")" if zooms else "?"),
    ]
    scaling = _scaling(slope, inter)
    if scaling:
        parts.append(scaling)
    return "  ".join(parts)


def _zooms(img: Any) -> tuple[float, ...]:
    return _zooms_of(img.header)


def _zooms_of(header: Any) -> tuple[float, ...]:
    try:
        return tuple(float(z) for z in header.get_zooms())
    except Exception:  # a header without zooms still gets a line
        return ()


def _scaling(slope: Any, inter: Any) -> str:
    try:
        if float(slope) == 1.0 and float(inter) == 0.0:
            return ""
        return f"scaling *{float(slope):g} +{float(inter):g}"
    except (TypeError, ValueError):
        return ""


def _details(img: Any) -> list[str]:
    files = [(file_type, holder.filename)
             for file_type, holder in sorted(getattr(img, "file_map", {}).items())]
    return _details_of(type(img), img.get_data_dtype(), getattr(img, "affine", None), files,
                       img.header)


def _details_of(
    klass: type, dtype: Any, affine: Any, files: list[tuple[str, Any]], header: Any,
    missing: frozenset[str] | set[str] = frozenset(),
) -> list[str]:
    lines = [
        f"class {klass.__module__}:{klass.__qualname__}",
        f"stored as {_dtype_label(dtype, byte_order=True)}",
    ]
    if affine is None:
        lines.append("affine unknown")
    else:
        lines.append("affine")
        lines += ["  " + "  ".join(f"{v:10.4f}" for v in row) for row in affine]
    for file_type, filename in files:
        gone = " (does not exist)" if filename in missing else ""
        lines.append(f"{file_type} file {filename}{gone}")
    return lines + _header_details(header)


def _header_details(header: Any) -> list[str]:
    items = getattr(header, "items", None)
    if not callable(items):
        return []
    lines = ["header fields"]
    coded = getattr(header, "coded_fields", {})
    for key, value in items():
        text = " ".join(str(getattr(value, "tolist", lambda v=value: v)()).split())
        if key in coded:  # a code with its meaning: "datatype 4 (int16)"
            text += f" ({header.get_value_label(key)})"
        lines.append(f"  {key:<16} {text[:100]}")
    return lines


# -- sniff -------------------------------------------------------------------------------
def cmd_sniff(args: argparse.Namespace, out: TextIO) -> int:
    """``voxelio sniff``: ranked candidates with their evidence; exit 1 if none accepts."""
    from .api import sniff
    from .registry.refusals import content_hints
    from .registry.store import get_registry


    def show(name: str) -> None:
        candidates = sniff(name)
        print(f"{name}:", file=out)
        accepted = [c for c in candidates if c.accepted]
        for rank, cand in enumerate(accepted, 1):
            how = "name and content" if cand.by_extension and cand.verdict != "extension" else (
                "name" if cand.by_extension else "content only"
            )
            print(f"  {rank}. {cand.name:<14} {cand.verdict:<9} ({how}) {cand.evidence}", file=out)
        if not accepted:
            print("  no format accepts this file", file=out)
            for hint in content_hints(name, get_registry()):
                print(f"  hint: {hint}", file=out)
            refused.append(name)
        for cand in candidates[len(accepted) :]:
            print(f"  -  {cand.name:<14} no        {cand.evidence}", file=out)

    refused: list[str] = []
    status = _each_file(args.files, show, args.debug)
    return EXIT_FAILED if refused else status


# -- convert -------------------------------------------------------------------------------
def cmd_convert(args: argparse.Namespace, out: TextIO) -> int:
    """``voxelio convert``: IN OUT, or many IN (names, globs) ``--to DIR``."""
    dtype = None
    if args.dtype:
        import numpy as np

        try:
            dtype = np.dtype(args.dtype)
        except TypeError:
            raise _UsageError(f"--dtype {args.dtype!r} is not a numpy data type") from None
    jobs = _convert_jobs(args)
    status = EXIT_OK
    bar = _progress(jobs, args.quiet)
    # with a bar on the terminal, a summary line is written above it, not through it
    say = getattr(bar, "write", None) or (lambda line, file: print(line, file=file))
    for source, target in bar:
        _working_on(source)
        try:
            line = _convert_one(source, target, args, dtype)
        except BrokenPipeError:
            raise
        except Exception as exc:
            if args.debug:
                raise
            _error(exc, source)
            status = EXIT_FAILED
            continue
        if not args.quiet:
            say(line, file=out)
    return status


def _convert_jobs(args: argparse.Namespace) -> list[tuple[str, str]]:
    import glob

    if args.to is None:
        if len(args.paths) != 2:
            raise _UsageError("convert takes IN OUT, or IN... --to DIR")
        return [(args.paths[0], args.paths[1])]
    sources: list[str] = []
    for pattern in args.paths:  # patterns the shell did not expand (quoted, Windows)
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise _UsageError(f"no file matches {pattern!r}")
        sources += [m for m in matches if m not in sources]
    os.makedirs(args.to, exist_ok=True)
    return [(src, os.path.join(args.to, _target_name(src, args.format))) for src in sources]


def _target_name(source: str, format_name: str | None) -> str:
    """The name ``source`` gets in the ``--to`` folder: its stem, the format's suffix.

    The compression ``source`` has is kept when the format can be
    compressed that way (``.nii.gz`` -> ``.mgz``, ``.mgz`` -> ``.nii.gz``,
    ``.mgh`` -> ``.nii``); otherwise the plain suffix.
    """
    from .codecs.detect import strip_compression
    from .registry.store import get_registry

    base = os.path.basename(source)
    stem = os.path.splitext(strip_compression(base))[0]
    if format_name is None:
        return base
    entry = get_registry().entries.get(format_name)
    if entry is None:
        raise _UsageError(f"--format {format_name!r} is not an installed format")
    return stem + _compressed_suffix(entry.spec, _codec_of(source))


def _codec_of(source: str) -> str | None:
    """The compression of ``source``: its name's, else its first bytes' (an alias: .mgz)."""
    from .codecs.detect import compression_from_name, detect_compression

    codec = compression_from_name(source)
    if codec is not None:
        return codec
    try:
        with open(source, "rb") as stream:
            return detect_compression(stream.read(8))
    except OSError:
        return None  # the conversion itself says what is wrong with the file


def _compressed_suffix(spec: Any, codec: str | None) -> str:
    """The format's suffix for files compressed with ``codec`` (plain if it has none)."""
    from .codecs.detect import SUFFIX_CODECS

    plain = spec.extensions[0]
    if codec is None:
        return plain
    for suffix, name in SUFFIX_CODECS.items():
        if name == codec and suffix in spec.compressed_suffixes:
            return plain + suffix
    aliases = getattr(spec.load_image_class(), "compression_aliases", {})
    return next((alias for alias, name in aliases.items() if name == codec), plain)


def _convert_one(source: str, target: str, args: argparse.Namespace, dtype: Any) -> str:
    """Convert one file; the summary line (formats, dtype, shape, what was not kept)."""
    import numpy as np

    from .api import load

    img = load(source, format=args.in_format)
    lost = _saved_reporting_losses(img, target, args.format, dtype)
    back = load(target)
    if back.shape != img.shape:
        lost.append(f"shape {list(img.shape)}")
    if not any("affine" in item for item in lost) and not np.allclose(
        back.affine, img.affine, atol=1e-4
    ):
        lost.append("the full affine")  # a format whose save did not say so
    same_dtype = back.get_data_dtype().newbyteorder("=") == img.get_data_dtype().newbyteorder("=")
    if not same_dtype and dtype is None:
        lost.append(f"dtype {_dtype_label(img.get_data_dtype())}")
    shape = "[" + ", ".join(str(n) for n in back.shape) + "]"
    line = (f"{source} -> {target}: {img.format_name} -> {back.format_name}, "
            f"{_dtype_label(img.get_data_dtype())} -> {_dtype_label(back.get_data_dtype())}, "
            f"shape {shape}")
    return line + ("; not kept: " + ", ".join(lost) if lost else "")


def _saved_reporting_losses(img: Any, target: str, format_name: Any, dtype: Any) -> list[str]:
    """Save ``img``; what its ConversionWarnings said was not kept (for the summary line).

    Those warnings are the summary's to report, not printed besides it;
    any other warning is shown as usual.
    """
    from .api import save
    from .errors import ConversionWarning
    from .writing import _CHOOSE_DTYPE

    words = _CHOOSE_DTYPE.set("--dtype {dtype}")  # messages asking for a dtype say --dtype
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConversionWarning)
            save(img, target, format=format_name, dtype=dtype)
    finally:
        _CHOOSE_DTYPE.reset(words)
    lost: list[str] = []
    for record in caught:
        if issubclass(record.category, ConversionWarning):
            items = getattr(record.message, "losses", ()) or (str(record.message),)
            lost += [item for item in items if item not in lost]
        else:
            warnings.showwarning(record.message, record.category, record.filename,
                                 record.lineno)
    return lost


def _progress(jobs: list[tuple[str, str]], quiet: bool) -> Any:
    """A progress bar (tqdm, if installed) for many files on a terminal; else the jobs.

    tqdm is optional (``pip install "voxelio[progress]"``); the bar goes to
    stderr and disappears when done, leaving the summary lines.
    """
    if quiet or len(jobs) < 2 or not sys.stderr.isatty():
        return jobs
    try:
        from tqdm import tqdm
    except ImportError:
        return jobs
    return tqdm(jobs, unit="file", file=sys.stderr, leave=False)


# -- check -------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """``voxelio check``: problems of each file's header and files (see ``check --help``)."""
    from .api import save
    from .diagnosis import diagnose

    if args.fix and len(args.files) != 1:
        raise _UsageError("--fix takes exactly one FILE")
    levels: list[int] = []

    def check(name: str) -> None:
        found = diagnose(name, args.format)
        if found.image is None:
            order = f", {found.byte_order}" if found.byte_order else ""
            how = "format given" if found.how == "given" else f"format chosen by {found.how}"
            print(f"{name}: does not load; its {found.format_name} header as stored "
                  f"({how}{order}):", file=out)
        elif not found.has_checks:
            print(f"{name}: {found.format_name} headers have no checks", file=out)
        elif not found.findings:
            print(f"{name}: ok", file=out)
        for finding in found.findings:
            print(f"{name}: {_level(finding.level, args.verbose)}: {finding.message}"
                  f"{_fix_note(finding, loaded=found.image is not None)}", file=out)
        if not args.fix:
            levels.extend(f.level for f in found.findings)
        elif found.image is None or found.errors:
            why = "the file does not load" if found.image is None else "errors cannot be fixed"
            print(f"{name}: no fixed copy written: {why}", file=out)
            levels.append(_ERROR_LEVEL)
        else:
            save(found.image, args.fix)
            print(f"{name}: wrote fixed copy {args.fix}", file=out)
            levels.extend(f.level for f in diagnose(args.fix).findings)

    status = _each_file(args.files, check, args.debug)
    if status or any(level >= _ERROR_LEVEL for level in levels):
        return EXIT_FAILED
    return EXIT_WARNINGS if levels else EXIT_OK


#: problem levels (Report.problem_level) from which a problem is an error
_ERROR_LEVEL = 40


def _level(level: int, verbose: bool) -> str:
    """A problem level in words (error / warning / note); the number only when verbose."""
    from .diagnosis import level_word

    word = level_word(level)
    return f"{word} (level {level})" if verbose else word


def _fix_note(finding: Any, loaded: bool) -> str:
    if finding.fixed_on_load:
        return " (fixed on load)"
    if loaded:  # an error of a file that loads is about its files: no fix to speak of
        return " (not fixable)" if finding.level < _ERROR_LEVEL else ""
    return " (fixable)" if finding.fixable else ""


def _dtype_label(dtype: Any, *, byte_order: bool = False) -> str:
    """:func:`voxelio.dtypes.dtype_label`, imported when first needed (it imports numpy)."""
    from .dtypes import dtype_label as label

    return label(dtype, byte_order=byte_order)


def _short_dtype(name: str) -> str:
    """A spec's dtype name, a colour type as its fields ('RGB'), without importing numpy."""
    if not name.startswith("["):
        return name
    import ast

    try:
        fields = ast.literal_eval(name)
        return "".join(str(f[0]) for f in fields) if all(f[1] == "u1" for f in fields) else name
    except (ValueError, SyntaxError, TypeError, IndexError):
        return name

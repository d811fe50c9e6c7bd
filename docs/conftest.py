"""The documentation's examples, run as tests (``make test``).

Every Markdown page under ``docs/`` is one test. Its examples run in the
order they appear, in a namespace shared by the whole page:

- ``python`` (or ``pycon``) code blocks that hold ``>>>`` prompts are
  doctests; blocks without a prompt are illustrations and are not run;
- ``console`` code blocks are command-line sessions: each ``$ voxelio ...``
  line runs the real command (``voxelio.cli.main``, in this process) and
  what it prints, stdout and stderr as a terminal interleaves them, is
  compared with the lines that follow; ``$ echo $?`` shows the last exit
  status. Shell snippets that are not to be run go in ``sh`` blocks.

Each page starts in a fresh temporary working directory holding the sample
images that :func:`write_samples` writes with voxelio itself, with ``np``
(numpy) and ``vx`` (voxelio) already imported, and sees exactly the formats
a user's environment has (the test-only plugins are hidden while it runs).
Output is compared with ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``; the
temporary directory's path is removed from what an example prints, so
pages show relative names. Warnings an example raises are printed as
``Category: message`` so a page can show them.

pytest's own ``--doctest-glob`` is not used: it reads a whole Markdown
file as one docstring, so the closing fence of a block would become part of
the expected output.
"""

from __future__ import annotations

import contextlib
import doctest
import os
import re
import shlex
import sys
import tempfile
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import voxelio as vx

OPTION_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
DOCTEST_LANGUAGES = {"python", "pycon", "python3", "py"}
CONSOLE_LANGUAGES = {"console", "shell-session"}
#: the variable naming the folder the root conftest.py laid the test-only plugins out in
TEST_PLUGINS_ENV = "VOXELIO_TEST_PLUGINS_DIR"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")


# -- sample images ---------------------------------------------------------------------
def write_samples(folder: str | os.PathLike) -> list[str]:
    """Write the sample images every page finds in its working directory.

    ``t1.nii.gz`` and ``t1.nii``: 3-D int16 with scaling (slope 0.5,
    intercept 10), 1.5 mm voxels; ``bold.nii.gz``: 4-D int16, 10 volumes,
    TR 2 s; ``t1.mgz``: the T1 as FreeSurfer MGZ; ``t1_analyze.hdr/.img``:
    Analyze 7.5; ``t1_pair.hdr/.img``: a NIfTI-1 pair. Returns the names.
    """
    from voxelio.demo import sample_affine, sample_volume

    folder = Path(folder)
    t1 = sample_volume((40, 48, 32))
    affine = sample_affine(t1.shape)
    nifti = vx.Nifti1Image(t1, affine)
    nifti.header.set_slope_inter(0.5, 10)
    nifti.header.set_xyzt_units("mm", "sec")
    vx.save(nifti, folder / "t1.nii.gz")
    vx.save(nifti, folder / "t1.nii")
    vx.save(vx.MGHImage(t1, affine), folder / "t1.mgz")
    # Analyze stores no orientation: its axes are radiological (x flipped)
    vx.save(vx.AnalyzeImage(t1, np.diag([-1.0, 1, 1, 1]) @ affine), folder / "t1_analyze.img")
    vx.save(vx.Nifti1Pair(t1, affine), folder / "t1_pair.img")

    rng = np.random.default_rng(1)
    base = sample_volume((24, 24, 16))
    bold_data = np.stack([base + rng.integers(0, 20, base.shape, dtype=np.int16)
                          for _ in range(10)], axis=-1)
    bold = vx.Nifti1Image(bold_data, _bold_affine())
    bold.header.set_zooms((3.0, 3.0, 3.0, 2.0))
    bold.header.set_xyzt_units("mm", "sec")
    vx.save(bold, folder / "bold.nii.gz")
    return sorted(os.listdir(folder))


def _bold_affine() -> np.ndarray:
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    affine[:3, 3] = [-34.5, -34.5, -22.5]
    return affine


# -- Markdown pages into doctests ------------------------------------------------------
def page_doctest(path: Path, globs: dict[str, Any]) -> doctest.DocTest:
    """The examples of a Markdown page as one :class:`doctest.DocTest`."""
    examples: list[doctest.Example] = []
    for language, first_line, text in code_blocks(path.read_text(encoding="utf-8")):
        if language in DOCTEST_LANGUAGES and ">>>" in text:
            parser = doctest.DocTestParser()
            for example in parser.get_examples(text, str(path)):
                example.lineno += first_line
                examples.append(example)
        elif language in CONSOLE_LANGUAGES:
            examples.extend(console_examples(text, first_line, path))
    return doctest.DocTest(examples, globs, path.name, str(path), 0, None)


def code_blocks(markdown: str) -> Iterator[tuple[str, int, str]]:
    """Fenced code blocks: (language, 0-based line of their first content line, text)."""
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        index += 1
        if opening is None:
            continue
        indent, fence = opening["indent"], opening["fence"]
        language = _language(opening["info"])
        body: list[str] = []
        start = index
        while index < len(lines):
            closing = _FENCE.match(lines[index])
            if (closing and closing["fence"][0] == fence[0]
                    and len(closing["fence"]) >= len(fence) and not closing["info"].strip()):
                break
            line = lines[index]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            index += 1
        index += 1
        yield language, start, "\n".join(body) + "\n"


def _language(info: str) -> str:
    """``python`` from ``python``, ``{code-block} python`` or ``{code} python``."""
    words = info.replace("{", " {").split()
    if words and words[0].startswith("{"):
        words = words[1:]
    return words[0].lower() if words else ""


def console_examples(text: str, first_line: int, path: Path) -> list[doctest.Example]:
    """One example per ``$ command`` line of a console block."""
    examples: list[doctest.Example] = []
    command: str | None = None
    output: list[str] = []
    lineno = first_line

    def close() -> None:
        if command is not None:
            examples.append(doctest.Example(_console_source(command, path, lineno),
                                            "".join(line + "\n" for line in output),
                                            lineno=lineno))

    for offset, line in enumerate(text.splitlines()):
        if line.startswith("$ "):
            close()
            command, output, lineno = line[2:].strip(), [], first_line + offset
        elif command is not None:
            output.append(line)
        elif line.strip():
            raise ValueError(f"{path}:{first_line + offset + 1}: a console block starts "
                             "with a '$ command' line")
    close()
    return examples


def _console_source(command: str, path: Path, lineno: int) -> str:
    if command == "echo $?":
        return "_console.show_status()\n"
    argv = shlex.split(command)
    if argv[0] != "voxelio":
        raise ValueError(
            f"{path}:{lineno + 1}: console blocks run voxelio commands only ({command!r}); "
            "put other shell lines in an 'sh' block"
        )
    return f"_console.run({argv[1:]!r})\n"


class Console:
    """Runs ``voxelio`` command lines in this process, printing what a terminal shows."""

    def __init__(self) -> None:
        self.status = 0

    def run(self, argv: list[str]) -> None:
        from voxelio import cli

        # doctest has replaced sys.stdout; the command's stderr joins it, in order
        with contextlib.redirect_stderr(sys.stdout):
            try:
                self.status = cli.main(argv)
            except Exception:  # --debug lets the error through, with its traceback
                traceback.print_exc(file=sys.stdout)
                self.status = 1

    def show_status(self) -> None:
        print(self.status)


# -- running a page --------------------------------------------------------------------
class ExampleFailedError(Exception):
    """An example printed something else than the page shows, or raised."""

    def __init__(self, test: doctest.DocTest, example: doctest.Example, got: str,
                 exc_info: Any = None) -> None:
        super().__init__(example.source)
        self.test, self.example, self.got, self.exc_info = test, example, got, exc_info


class _Checker(doctest.OutputChecker):
    """Compares output with the page's temporary directory taken out of it."""

    def __init__(self, folder: str) -> None:
        self.prefixes = sorted({os.path.join(p, "") for p in (folder, os.path.realpath(folder))},
                               key=len, reverse=True)

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        return super().check_output(want, self.relative(got), optionflags)

    def relative(self, got: str) -> str:
        for prefix in self.prefixes:
            got = got.replace(prefix, "")
        return got


class _Runner(doctest.DocTestRunner):
    """Stops at the first failing example and hands it to pytest."""

    def report_start(self, out: Any, test: Any, example: Any) -> None:
        pass

    def report_success(self, out: Any, test: Any, example: Any, got: str) -> None:
        pass

    def report_failure(self, out: Any, test: Any, example: Any, got: str) -> None:
        raise ExampleFailedError(test, example, got)

    def report_unexpected_exception(self, out: Any, test: Any, example: Any,
                                    exc_info: Any) -> None:
        raise ExampleFailedError(test, example, "", exc_info)


class MarkdownPage(pytest.File):
    """A Markdown page of docs/: one test when it holds examples."""

    def collect(self) -> Iterator[pytest.Item]:
        test = page_doctest(self.path, {})
        if test.examples:
            yield PageExamples.from_parent(self, name="examples", dtest=test)


class PageExamples(pytest.Item):
    """Runs one page's examples in order, in a fresh folder with the sample images."""

    def __init__(self, *, dtest: doctest.DocTest, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dtest = dtest
        self.checker: _Checker | None = None

    def runtest(self) -> None:
        with tempfile.TemporaryDirectory(prefix="voxelio-docs-") as folder, \
                pytest.MonkeyPatch.context() as patch, _environ_restored(), \
                _user_plugins_only(), \
                warnings.catch_warnings():
            patch.chdir(folder)
            write_samples(folder)
            warnings.simplefilter("always")
            # collected whenever the garbage collector runs: not an example's output
            warnings.simplefilter("ignore", ResourceWarning)
            warnings.showwarning = _print_warning
            self.checker = _Checker(folder)
            self.dtest.globs.clear()
            self.dtest.globs.update(
                {"__name__": "__main__", "np": np, "vx": vx, "_console": Console()})
            runner = _Runner(checker=self.checker, optionflags=OPTION_FLAGS)
            try:
                runner.run(self.dtest, clear_globs=True)
            finally:
                self.dtest.globs.clear()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        failure = excinfo.value
        if not isinstance(failure, ExampleFailedError):
            return super().repr_failure(excinfo)
        example = failure.example
        where = f"{failure.test.filename}:{example.lineno + 1}"
        source = "".join(f">>> {line}\n" if i == 0 else f"... {line}\n"
                         for i, line in enumerate(example.source.splitlines()))
        if failure.exc_info is not None:
            detail = "".join(traceback.format_exception(*failure.exc_info))
            return f"{where}: the example raised\n{source}{detail}"
        assert self.checker is not None
        got = self.checker.relative(failure.got)
        return f"{where}: the output differs\n{source}" + self.checker.output_difference(
            example, got, OPTION_FLAGS)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"examples of {self.path.name}"


def _print_warning(message: Any, category: type, *args: Any, **kwargs: Any) -> None:
    print(f"{category.__name__}: {message}")


@contextlib.contextmanager
def _environ_restored() -> Iterator[None]:
    """Undo what a page does to os.environ (VOXELIO_PLUGINS...)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _user_plugins_only() -> Iterator[None]:
    """Hide the test-only plugins; forget formats a page registers at run time."""
    from voxelio.registry import store

    folder = os.environ.get(TEST_PLUGINS_ENV)
    hidden = [(i, e) for i, e in enumerate(sys.path)
              if folder and e and os.path.realpath(e) == os.path.realpath(folder)]
    for index, _ in reversed(hidden):
        del sys.path[index]
    runtime_before = set(store.get_registry().runtime_formats())
    store.refresh()
    try:
        yield
    finally:
        for name in set(store.get_registry().runtime_formats()) - runtime_before:
            vx.unregister_format(name)
        for index, entry in hidden:
            sys.path.insert(index, entry)
        store.refresh()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect every Markdown page outside the build output."""
    if file_path.suffix == ".md" and "_build" not in file_path.parts:
        return MarkdownPage.from_parent(parent, path=file_path)
    return None

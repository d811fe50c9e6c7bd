"""The mechanism that runs the documentation's examples (docs/conftest.py).

Each test lays out a small docs folder (that conftest and one Markdown
page) and runs pytest on it in this process, so collection, the sample
images, the comparison and the failure report are the real ones.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

DOCS_CONFTEST = Path(__file__).resolve().parents[2] / "docs" / "conftest.py"


@pytest.fixture(scope="module", autouse=True)
def _imports_done_outside(tmp_path_factory):
    """Import what a page run imports before pytester does.

    pytester drops the modules an inner run imported; importing numpy's
    compiled parts a second time fails, so they must come in from here.
    """
    import contextlib
    import importlib.util
    import io

    import voxelio as vx
    from voxelio import cli

    spec = importlib.util.spec_from_file_location("docs_conftest", DOCS_CONFTEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = tmp_path_factory.mktemp("samples")
    for name in module.write_samples(folder):
        if not name.endswith(".hdr"):
            vx.load(folder / name).get_fdata()
    vx.formats()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        cli.main(["info", str(folder / "t1.mgz"), str(folder / "missing.nii")])


def run_page(pytester: pytest.Pytester, markdown: str) -> pytest.RunResult:
    shutil.copy(DOCS_CONFTEST, pytester.path / "conftest.py")
    (pytester.path / "page.md").write_text(textwrap.dedent(markdown), encoding="utf-8")
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "page.md")


def test_python_blocks_run_in_order_with_the_samples_np_and_vx(pytester):
    result = run_page(pytester, """\
        # A page

        ```python
        >>> img = vx.load("t1.nii.gz")
        >>> img.shape
        (40, 48, 32)
        ```

        Prose between blocks; the namespace carries on.

        ```python
        >>> float(np.asarray(img.dataobj).min()) >= 10
        True
        >>> sorted(p for p in __import__("os").listdir(".") if p.startswith("t1"))
        ['t1.mgz', 't1.nii', 't1.nii.gz', 't1_analyze.hdr', 't1_analyze.img',
         't1_pair.hdr', 't1_pair.img']
        ```
        """)
    result.assert_outcomes(passed=1)


def test_a_wrong_output_fails_and_names_the_line(pytester):
    result = run_page(pytester, """\
        Text.

        ```python
        >>> 1 + 1
        3
        ```
        """)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*page.md:4: the output differs*", "*>>> 1 + 1*",
                                 "Expected:", "    3", "Got:", "    2"])


def test_an_unexpected_exception_fails_with_its_traceback(pytester):
    result = run_page(pytester, """\
        ```python
        >>> vx.load("no-such-file.nii")
        ```
        """)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*page.md:2: the example raised*", "*FileNotFoundError*"])


def test_blocks_without_prompts_and_other_languages_are_not_run(pytester):
    result = run_page(pytester, """\
        ```python
        vx.load("no-such-file.nii")   # an illustration, not a doctest
        ```

        ```sh
        voxelio info whatever.nii
        ```
        """)
    result.assert_outcomes()  # nothing collected


def test_console_blocks_run_voxelio_and_compare_stdout_and_stderr(pytester):
    result = run_page(pytester, """\
        ```console
        $ voxelio info t1.mgz
        t1.mgz  mgh  ...  [40, 48, 32]  zooms (1.5, 1.5, 1.5)
        $ voxelio info missing.nii
        voxelio: missing.nii: no such file
        $ echo $?
        1
        ```
        """)
    result.assert_outcomes(passed=1)


def test_a_wrong_console_output_fails(pytester):
    result = run_page(pytester, """\
        ```console
        $ voxelio info t1.mgz
        t1.mgz  nifti1  int16  [40, 48, 32]
        ```
        """)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*page.md:2: the output differs*", "Got:", "*t1.mgz*mgh*"])


def test_console_blocks_refuse_other_commands(pytester):
    result = run_page(pytester, """\
        ```console
        $ rm -rf /
        ```
        """)
    result.stdout.fnmatch_lines(["*console blocks run voxelio commands only*"])
    assert result.ret != 0


def test_the_temporary_folder_is_taken_out_of_printed_paths(pytester):
    result = run_page(pytester, """\
        ```python
        >>> import os
        >>> print(os.path.abspath("t1.nii.gz"))
        t1.nii.gz
        ```
        """)
    result.assert_outcomes(passed=1)


def test_warnings_show_as_output(pytester):
    result = run_page(pytester, """\
        ```python
        >>> import warnings
        >>> warnings.warn("careful", UserWarning)
        UserWarning: careful
        ```
        """)
    result.assert_outcomes(passed=1)


def test_pages_see_only_the_users_formats_and_leave_no_runtime_format(pytester):
    import voxelio as vx

    assert "toy" in {info.name for info in vx.formats()}  # the test session's plugin
    result = run_page(pytester, """\
        ```python
        >>> sorted(info.name for info in vx.formats())
        ['analyze', 'mgh', 'nifti1', 'nifti1-pair', 'nifti2', 'nifti2-pair']
        >>> from voxelio_mgh.image import MGHImage
        >>> class PageImage(MGHImage):
        ...     valid_exts = (".page",)
        >>> _ = vx.register_format(PageImage, name="page-format", extensions=(".page",))
        ```
        """)
    result.assert_outcomes(passed=1)
    names = {info.name for info in vx.formats()}
    assert "toy" in names and "page-format" not in names


def test_each_page_starts_in_a_fresh_folder(pytester):
    shutil.copy(DOCS_CONFTEST, pytester.path / "conftest.py")
    for name in ("a.md", "b.md"):
        (pytester.path / name).write_text(textwrap.dedent("""\
            ```python
            >>> import os
            >>> os.path.exists("left-behind.txt")
            False
            >>> with open("left-behind.txt", "w") as f:
            ...     _ = f.write("x")
            ```
            """), encoding="utf-8")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "a.md", "b.md")
    result.assert_outcomes(passed=2)

"""``voxelio check``: headers that load and headers that do not, missing files, exit codes."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import voxelio as vx

#: the test session's broken plugins would add their warnings to stderr
QUIET_ENV = {**os.environ, "VOXELIO_DISABLE_PLUGINS":
             "voxelio-broken-import,voxelio-broken-sniff,voxelio-invalid-spec"}


def voxelio(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voxelio", *args], capture_output=True,
                          text=True, timeout=120, env=QUIET_ENV)


@pytest.fixture
def nifti(tmp_path):
    path = tmp_path / "good.nii"
    vx.save(vx.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4),
                           np.diag([2.0, 3.0, 4.0, 1.0])), path)
    return path


def damaged(source, target, offset: int, fmt: str, value) -> str:
    raw = bytearray(source.read_bytes())
    raw[offset:offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
    target.write_bytes(bytes(raw))
    return str(target)


@pytest.mark.parametrize(("offset", "fmt", "value", "problem"), [
    (40, "<h", 9, "dim[0] is 9: the number of dimensions must be 0 to 7"),
    (70, "<h", 999, "data code 999 is not recognised as a NIfTI-1 data type"),
    (42, "<h", -3, "dim [-3, 3, 4] has a negative length"),
], ids=["dim0-9", "datatype-999", "negative-dim"])
def test_a_header_that_does_not_load_is_checked_as_stored(tmp_path, nifti, offset, fmt, value,
                                                          problem):
    bad = damaged(nifti, tmp_path / "bad.nii", offset, fmt, value)
    done = voxelio("check", bad)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (f"{bad}: does not load; its nifti1 header as stored (format chosen "
                        "by content, little-endian):")
    assert f"{bad}: error: {problem}" in lines
    # the problem once, in words; nothing on stderr (no log lines, no load error)
    assert done.stdout.count(problem) == 1 and "level" not in done.stdout
    assert done.stderr == ""
    assert "no installed format could read it" not in done.stdout
    verbose = voxelio("check", "-v", bad)
    assert f"{bad}: error (level 40): {problem}" in verbose.stdout.splitlines()


def test_the_byte_order_the_checks_find_least_wrong_in_is_kept(tmp_path, nifti):
    # dim[0] = 9 is out of range in both byte orders: the header's own guess
    # (swapped) would turn every field into nonsense
    bad = damaged(nifti, tmp_path / "bad.nii", 40, "<h", 9)
    done = voxelio("check", bad)
    problems = [line for line in done.stdout.splitlines()[1:]]
    assert problems == [f"{bad}: error: dim[0] is 9: the number of dimensions must be 0 to 7"]


def test_format_option_chooses_the_checks_when_nothing_recognises_the_file(tmp_path, nifti):
    bad = damaged(nifti, tmp_path / "scan.bin", 344, "4s", b"xx1\0")
    plain = voxelio("check", bad)
    assert plain.returncode == 1 and "no installed format could read it" in plain.stderr
    given = voxelio("check", "--format", "nifti1", bad)
    assert given.returncode == 1
    assert given.stdout.splitlines()[0] == (f"{bad}: does not load; its nifti1 header as "
                                            "stored (format given, little-endian):")
    assert f"{bad}: error: magic string 'xx1' is not valid (n+1 or ni1)" in given.stdout


def test_a_pair_whose_image_file_is_missing_is_an_error(tmp_path):
    vx.save(vx.Nifti1Image(np.zeros((2, 2, 2), np.int16), np.eye(4)), tmp_path / "p.img")
    os.remove(tmp_path / "p.img")
    done = voxelio("check", str(tmp_path / "p.hdr"))
    assert done.returncode == 1
    assert f"{tmp_path / 'p.hdr'}: error: the image file {tmp_path / 'p.img'} is missing" \
        in done.stdout.splitlines()


def test_a_pair_whose_header_is_missing_is_an_error(tmp_path):
    vx.save(vx.Nifti1Image(np.zeros((2, 2, 2), np.int16), np.eye(4)), tmp_path / "p.img")
    os.remove(tmp_path / "p.hdr")
    done = voxelio("check", str(tmp_path / "p.img"))
    assert done.returncode == 1
    assert f"error: the header file {tmp_path / 'p.hdr'} is missing" in done.stdout


def test_an_image_file_shorter_than_its_header_says_is_an_error(tmp_path, nifti):
    short = tmp_path / "short.nii"
    short.write_bytes(nifti.read_bytes()[:-10])
    done = voxelio("check", str(short))
    assert done.returncode == 1
    assert (f"{short}: error: cannot load: {str(short)!r} is truncated: the header describes "
            "48 bytes of int16 data (2, 3, 4) from byte 352, but the file has only 390 bytes"
            ) in done.stdout.splitlines()


def test_warnings_only_exit_3_and_are_printed_once_without_log_lines(tmp_path, nifti):
    bad = damaged(nifti, tmp_path / "zoom.nii", 80, "<f", -2.0)
    done = voxelio("check", bad)
    assert done.returncode == 3
    assert done.stdout.splitlines() == [
        f"{bad}: warning: pixdim[1,2,3] should be positive; setting zero sizes to 1 and "
        "negative sizes to their absolute values (fixed on load)"]
    assert done.stderr == ""
    fixed = tmp_path / "fixed.nii"
    done = voxelio("check", bad, "--fix", str(fixed))
    assert done.returncode == 0 and voxelio("check", str(fixed)).stdout.endswith(": ok\n")


def test_fix_of_a_file_that_does_not_load_writes_nothing(tmp_path, nifti):
    bad = damaged(nifti, tmp_path / "bad.nii", 70, "<h", 999)
    done = voxelio("check", bad, "--fix", str(tmp_path / "out.nii"))
    assert done.returncode == 1
    assert f"{bad}: no fixed copy written: the file does not load" in done.stdout
    assert not (tmp_path / "out.nii").exists()


def test_help_documents_the_exit_status():
    done = voxelio("check", "--help")
    text = " ".join(done.stdout.split())
    assert "exit status: 0 no problems" in text and "3 warnings and notes only" in text
    assert "1 errors" in text
    listing = " ".join(voxelio("--help").stdout.split())
    assert "exit 3: warnings only, 1: errors" in listing


def test_log_lines_of_other_commands_name_the_file_once(tmp_path, nifti):
    bad = damaged(nifti, tmp_path / "zoom.nii", 80, "<f", -2.0)
    done = voxelio("info", bad, str(nifti))
    assert done.returncode == 0
    message = (f"voxelio: {bad}: warning: pixdim[1,2,3] should be positive; setting zero "
               "sizes to 1 and negative sizes to their absolute values")
    assert done.stderr.splitlines() == [message]


def test_a_closed_output_pipe_ends_quietly(nifti):
    # enough output to fill the pipe: the writer meets a reader that has gone
    proc = subprocess.Popen([sys.executable, "-m", "voxelio", "info", "-v",
                             *[str(nifti)] * 400], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=QUIET_ENV)
    assert proc.stdout.readline().startswith(str(nifti))
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert "BrokenPipe" not in err and "Traceback" not in err and err == ""


def test_a_format_without_content_rules_is_chosen_by_name_and_every_problem_reported(
        tmp_path):
    path = tmp_path / "bad.mgh"
    vx.save(vx.MGHImage(np.zeros((2, 3, 4), np.float32), np.eye(4)), path)
    raw = bytearray(path.read_bytes())
    raw[4:8] = struct.pack(">i", -5)  # first dimension
    raw[20:24] = struct.pack(">i", 77)  # data type
    path.write_bytes(bytes(raw))
    done = voxelio("check", str(path))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        f"{path}: does not load; its mgh header as stored (format chosen by name, big-endian):",
        f"{path}: error: Dimensions of the data should be non-zero and positive, not "
        "[-5, 3, 4, 1]",
        f"{path}: error: MGH data type 77 is not recognised (voxelio reads MGH data of types "
        "uint8, int32, float32, int16, uint16)",
    ]


def test_a_nan_intercept_with_a_valid_slope_is_a_fixable_warning(tmp_path, nifti):
    scaled = damaged(nifti, tmp_path / "slope.nii", 112, "<f", 2.0)  # scl_slope
    bad = damaged(Path(scaled), tmp_path / "inter.nii", 116, "<f", float("nan"))  # scl_inter
    done = voxelio("check", bad)
    assert done.returncode == 3
    assert done.stdout.splitlines() == [
        f"{bad}: warning: scl_inter is nan but scl_slope 2 scales the data (the intercept "
        "must be finite); reading the values with intercept 0 (fixed on load)"]

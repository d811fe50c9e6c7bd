"""The voxelio command, run as a separate process on toy files."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import voxelio as vx


def voxelio(*args: str, module: bool = False) -> subprocess.CompletedProcess:
    exe = (
        [sys.executable, "-m", "voxelio"]
        if module
        else [os.path.join(os.path.dirname(sys.executable), "voxelio")]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXELIO_")}
    return subprocess.run([*exe, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def toy(tmp_path):
    path = tmp_path / "a.toy"
    vx.save(
        vx.ToyImage(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.diag([2, 3, 4, 1])), path
    )
    return str(path)


def test_formats_lists_toy_and_broken_plugins():
    done = voxelio("formats")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAME", "DISTRIBUTION", "EXTENSIONS"]
    toy = next(line for line in lines if line.startswith("toy "))
    assert "voxelio-toy 0.1.0" in toy and ".toy" in toy and "int16" in toy and toy.endswith("ok")
    broken = next(line for line in lines if line.startswith("broken_import"))
    assert "broken: cannot import" in broken
    assert "warning" not in done.stderr  # the table already shows broken plugins


def test_formats_verbose_has_environment():
    done = voxelio("formats", "--verbose")
    assert done.returncode == 0 and "[voxelio]" in done.stdout and "pluggy:" in done.stdout


def test_info_one_line_per_file(toy, tmp_path):
    done = voxelio("info", toy, toy)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[1:] == ["toy", "int16", "[2,", "3,", "4]", "zooms", "(2,", "3,", "4)"]


def test_info_verbose_and_failures(toy, tmp_path):
    done = voxelio("info", "--verbose", toy, str(tmp_path / "missing.toy"))
    assert done.returncode == 1
    assert "affine" in done.stdout and "image file" in done.stdout
    assert "header fields" in done.stdout
    assert "    magic            b'VXT1'" in done.stdout
    assert "    dims             [2, 3, 4, 1, 1, 1, 1]" in done.stdout
    assert "no such file" in done.stderr and "Traceback" not in done.stderr
    missing = str(tmp_path / "missing.toy")
    assert f"voxelio: {missing}: no such file\n" in done.stderr  # the file named once


def test_sniff_ranks_with_evidence(toy, tmp_path):
    os.rename(toy, tmp_path / "a.dat")
    done = voxelio("sniff", str(tmp_path / "a.dat"), module=True)
    assert done.returncode == 0
    assert "1. toy" in done.stdout and "content only" in done.stdout and "b'VXT1'" in done.stdout


def test_convert_with_dtype(toy, tmp_path):
    out = tmp_path / "b.toy.gz"
    done = voxelio("convert", toy, str(out), "--dtype", "float32")
    assert done.returncode == 0, done.stderr
    img = vx.load(out)
    assert img.get_data_dtype() == np.float32
    np.testing.assert_array_equal(img.get_fdata(), np.arange(24).reshape(2, 3, 4))
    bad = voxelio("convert", toy, str(tmp_path / "c.toy"), "--dtype", "nonsense")
    assert bad.returncode == 1 and "not a numpy data type" in bad.stderr


def test_unreadable_file_explains_without_traceback(tmp_path):
    path = tmp_path / "junk.xyz"
    path.write_bytes(b"junk" * 10)
    done = voxelio("info", str(path))
    assert done.returncode == 1
    assert "no installed format could read it" in done.stderr
    assert "Traceback" not in done.stderr
    debug = voxelio("--debug", "info", str(path))
    assert "Traceback" in debug.stderr


def test_check_and_fix(toy, tmp_path):
    assert voxelio("check", toy).stdout.strip().endswith(": ok")
    raw = bytearray(Path(toy).read_bytes())
    raw[40:44] = struct.pack("<f", -2.0)  # first zoom negative: fixable
    bad = tmp_path / "bad.toy"
    bad.write_bytes(bytes(raw))
    done = voxelio("check", str(bad))
    # a fixable warning only: exit 3, the level in words (the number with -v)
    assert done.returncode == 3 and "zooms should be positive" in done.stdout
    assert f"{bad}: warning: zooms should be positive" in done.stdout
    assert "level" not in done.stdout
    verbose = voxelio("check", "-v", str(bad))
    assert f"{bad}: warning (level 30): zooms should be positive" in verbose.stdout
    fixed = tmp_path / "fixed.toy"
    done = voxelio("check", str(bad), "--fix", str(fixed))
    assert done.returncode == 0, done.stdout + done.stderr
    assert vx.load(fixed).header.get_zooms() == (2.0, 3.0, 4.0)
    assert voxelio("check", toy, toy, "--fix", str(fixed)).returncode == 1


def test_usage_errors_exit_2():
    assert voxelio().returncode == 2
    assert voxelio("bogus").returncode == 2
    assert voxelio("info").returncode == 2
    assert voxelio("--help").returncode == 0

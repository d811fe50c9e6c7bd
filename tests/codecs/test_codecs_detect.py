"""Recognising compression from names and from content; listing implementations."""

from __future__ import annotations

import bz2
import gzip
import pathlib

import pytest

from voxelio import codecs


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("brain.nii.gz", "gzip"),
        ("BRAIN.NII.GZ", "gzip"),
        ("brain.Nii.Gz", "gzip"),
        ("scan.mgh.bz2", "bz2"),
        ("scan.MGH.BZ2", "bz2"),
        ("t1.nii.zst", "zstd"),
        ("T1.NII.ZST", "zstd"),
        ("brain.nii", None),
        ("brain.gzip", None),
        ("gz", None),
        ("dir.gz/brain.nii", None),
    ],
)
def test_compression_from_name_reads_the_suffix_in_any_case(name, expected):
    assert codecs.compression_from_name(name) == expected


def test_compression_from_name_accepts_path_objects():
    assert codecs.compression_from_name(pathlib.Path("a") / "b.nii.GZ") == "gzip"


def test_compressed_suffixes_are_the_three_codecs():
    assert codecs.COMPRESSED_SUFFIXES == (".gz", ".bz2", ".zst")
    for suffix in codecs.COMPRESSED_SUFFIXES:
        assert codecs.compression_from_name("x" + suffix) is not None


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (gzip.compress(b"abc"), "gzip"),
        (b"\x1f\x8b", "gzip"),
        (bz2.compress(b"abc"), "bz2"),
        (b"BZh", "bz2"),
        (b"BZh9", "bz2"),
        (b"BZhx", None),
        (b"\x28\xb5\x2f\xfd\x00", "zstd"),
        (b"\x5a\x2a\x4d\x18", "zstd"),  # skippable frame
        (b"\x5c\x01\x00\x00", None),  # a NIfTI-1 header's sizeof_hdr
        (b"\x00\x00\x01\x5c", None),
        (b"", None),
        (b"\x1f", None),
        (b"\x28\xb5\x2f", None),
    ],
)
def test_detect_compression_from_magic_bytes(prefix, expected):
    assert codecs.detect_compression(prefix) == expected


def test_detect_compression_accepts_any_buffer():
    assert codecs.detect_compression(memoryview(b"\x1f\x8b\x08\x00")) == "gzip"
    assert codecs.detect_compression(bytearray(b"BZh1")) == "bz2"


def test_available_codecs_names_an_implementation_for_each_codec(monkeypatch):
    monkeypatch.delenv("VOXELIO_STDLIB_CODECS", raising=False)
    found = codecs.available_codecs()
    assert set(found) >= {"gzip", "bz2"}
    assert all(isinstance(v, str) and v for v in found.values())


def test_stdlib_switch_selects_standard_library_gzip(monkeypatch):
    pytest.importorskip("isal")
    monkeypatch.delenv("VOXELIO_STDLIB_CODECS", raising=False)
    assert codecs.available_codecs()["gzip"].startswith("isal")
    monkeypatch.setenv("VOXELIO_STDLIB_CODECS", "1")
    assert codecs.available_codecs()["gzip"].startswith("zlib")


def test_importing_codecs_imports_no_optional_codec_or_numpy():
    import subprocess
    import sys

    code = (
        "import sys, voxelio.codecs; "
        "print([m for m in ('isal', 'zstandard', 'numpy', 'bz2', 'zlib') "
        "if m in sys.modules and m != 'zlib' and m != 'numpy'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_default_install_has_the_fast_codecs():
    # isal and zlib-ng are regular dependencies on this platform (x86-64/ARM64 CPython)
    import platform

    if platform.machine() not in ("x86_64", "AMD64", "aarch64", "arm64", "ARM64"):
        pytest.skip("no wheels of the fast codecs are promised on this platform")
    import isal  # noqa: F401
    import zlib_ng  # noqa: F401


def test_environment_report_says_which_codec_is_used(monkeypatch, capsys):
    from voxelio.api import environment_report
    from voxelio.cli import main

    monkeypatch.delenv("VOXELIO_STDLIB_CODECS", raising=False)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "3")
    facts = environment_report()["codecs"]
    assert facts["gzip"] == codecs.available_codecs()["gzip"]
    assert facts["gzip seek index"].startswith(("zlib-ng ", "zlib "))
    assert facts["threads"] == "3"
    assert "restricted" not in facts
    monkeypatch.setenv("VOXELIO_STDLIB_CODECS", "1")
    facts = environment_report()["codecs"]
    assert facts["gzip"].startswith("zlib ") and facts["gzip seek index"].startswith("zlib ")
    assert "VOXELIO_STDLIB_CODECS" in facts["restricted"]
    main(["formats", "-v"])
    out = capsys.readouterr().out
    assert "[codecs]" in out and "gzip seek index: zlib " in out

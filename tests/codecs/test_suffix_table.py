"""One table of compressed-file suffixes, one strip helper, read everywhere."""

from __future__ import annotations

import pytest

from voxelio import codecs, filemaps, openfiles
from voxelio.image import SpatialImage
from voxelio.registry import known
from voxelio.registry.spec import DEFAULT_COMPRESSED_SUFFIXES


def test_the_table_gives_suffixes_and_codecs():
    assert codecs.SUFFIX_CODECS == {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
    assert tuple(codecs.SUFFIX_CODECS) == codecs.COMPRESSED_SUFFIXES
    for suffix, codec in codecs.SUFFIX_CODECS.items():
        assert codecs.compression_from_name("a.nii" + suffix.upper()) == codec


def test_every_default_is_the_table():
    assert SpatialImage.compressed_suffixes is codecs.COMPRESSED_SUFFIXES
    assert DEFAULT_COMPRESSED_SUFFIXES is codecs.COMPRESSED_SUFFIXES


def test_one_strip_helper():
    assert filemaps.split_compression is codecs.split_compression
    assert openfiles.strip_compression is codecs.strip_compression


@pytest.mark.parametrize(
    ("name", "base", "suffix"),
    [
        ("T1w.nii.gz", "T1w.nii", ".gz"),
        ("T1w.NII.Bz2", "T1w.NII", ".Bz2"),
        ("dir.gz/T1w.nii.zst", "dir.gz/T1w.nii", ".zst"),
        ("T1w.nii", "T1w.nii", ""),
        ("T1w.gzip", "T1w.gzip", ""),
        (".gz", "", ".gz"),
    ],
)
def test_split_and_strip_keep_case_and_take_the_table(name, base, suffix):
    assert codecs.split_compression(name) == (base, suffix)
    assert codecs.strip_compression(name) == base


def test_split_takes_a_format_own_suffixes_longest_first():
    assert codecs.split_compression("a.img.gz", ()) == ("a.img.gz", "")
    assert codecs.split_compression("a.tar.gz", (".gz", ".tar.gz")) == ("a", ".tar.gz")


def test_known_formats_see_through_every_compressed_suffix():
    for suffix in codecs.COMPRESSED_SUFFIXES:
        names = [k.name for k in known.known_for_filename("x.NII" + suffix)]
        assert names == ["nifti1", "nifti2"]


def test_cli_lists_the_table(capsys):
    from voxelio.cli import main

    assert main(["formats"]) == 0
    assert "(+" + " ".join(codecs.COMPRESSED_SUFFIXES) + ")" in capsys.readouterr().out

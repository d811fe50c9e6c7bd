"""Dispatch table: file name x content x installed formats -> choice or error."""

from __future__ import annotations

import gzip
import os

import pytest
from tinyformats import TINY_FORMATS

import voxelio as vx
from voxelio.errors import ImageFileError
from voxelio.registry import dispatch

# (file name, content, {sibling name: content}, expected format or error fragments)
TABLE = [
    ("f.alp", b"ALPHA...", {}, "alpha"),  # content yes beats extension-only
    ("F.ALP", b"ALPHA...", {}, "alpha"),  # suffixes ignore case
    ("f.alp", b"zzzzzzzz", {}, "gamma"),  # alpha says no; gamma has no content rules
    ("f.dat", b"ALPHA...", {}, "alpha"),  # content only; 5 magic bytes beat delta's 4
    ("f.dlt", b"ALPHA...", {}, "delta"),  # extension candidates come first
    ("f.pri", b"whatever", {}, "prio-a"),  # priority
    ("f.tie", b"whatever", {}, "tie-a"),  # name breaks the last tie
    ("f.b.c", b"whatever", {}, "long"),  # longest matching suffix
    ("f.snf", b"S?......", {}, "sniffy"),  # weak sniff is enough when alone
    ("f.phd", b"PAIR2...", {"f.pim": b"data"}, "pair2"),  # both yes: supersedes decides
    ("f.phd", b"PAIR1...", {"f.pim": b"data"}, "pair"),  # pair2 only weak: verdict decides
    ("f.pim", b"rawdata!", {"f.phd": b"PAIR2..."}, "pair2"),  # the header is examined
    ("f.alp", b"ALPHA FAIL-alpha", {}, "gamma"),  # a failing reader falls back
    ("f.xyz", b"nothing!", {}, ["no installed format could read it", "alpha: no magic"]),
    ("f.snf", b"nope", {}, ["sniffy: sniff says no"]),
    ("f.pim", b"rawdata!", {}, ["pair: cannot read its header file", "f.phd"]),
    # alpha claims the file (name and magic): its refusal is the error, the others a hint
    (
        "f.alp",
        b"ALPHA FAIL-alpha FAIL-gamma FAIL-delta",
        {},
        ["as alpha: alpha reader refuses this file", "hint: gamma, delta also tried"],
    ),
    ("f.snf", b"S!FAIL-sniffy", {}, ["as sniffy: sniffy reader refuses"]),  # a sniff's yes
    # no claim: equal evidence (pair and pair2 both 'yes' by 4 magic bytes), a weak
    # sniff, no content rules, content without the name: every format listed
    (
        "f.phd",
        b"PAIR2... FAIL-pair FAIL-pair2",
        {"f.pim": b"data"},
        ["could read it", "tried and failed", "pair2: ImageFileError", "pair: ImageFileError"],
    ),
    ("f.snf", b"S?FAIL-sniffy", {}, ["could read it", "sniffy: ImageFileError"]),
    ("f.tie", b"FAIL-tie-a FAIL-tie-b", {}, ["could read it", "tie-a: Image", "tie-b: Image"]),
    ("f.dat", b"ALPHA FAIL-alpha FAIL-delta", {}, ["could read it", "alpha: Image"]),
    # known formats: the hint names the distribution (installed-but-disabled here,
    # or not installed; see test_install_hint_when_not_installed)
    ("f.nii", b"nothing!", {}, ["comes with voxelio-nifti1"]),
    ("f.mgz", b"nothing!", {}, ["comes with voxelio-mgh"]),
    ("f.img", b"nothing!", {}, ["voxelio-analyze", "voxelio-nifti1"]),
]


@pytest.fixture
def tiny_registry(isolated_registry):
    for spec in TINY_FORMATS:
        vx.register_format(spec)
    return isolated_registry


@pytest.mark.parametrize(("name", "content", "siblings", "expected"), TABLE)
def test_dispatch_table(tiny_registry, tmp_path, name, content, siblings, expected):
    path = tmp_path / name
    path.write_bytes(content)
    for sibling, data in siblings.items():
        (tmp_path / sibling).write_bytes(data)
    if isinstance(expected, str):
        img = vx.load(path)
        assert img.format_name == expected
    else:
        with pytest.raises(ImageFileError) as info:
            vx.load(path)
        message = str(info.value)
        assert str(path) in message
        for fragment in expected:
            assert fragment in message


def test_compressed_content_is_sniffed_through_decompression(tiny_registry, tmp_path):
    path = tmp_path / "f.alp.gz"
    path.write_bytes(gzip.compress(b"ALPHA..."))
    best = vx.sniff(path)[0]
    assert (best.name, best.verdict, best.suffix) == ("alpha", "yes", ".alp.gz")
    renamed = tmp_path / "f.bin"
    os.rename(path, renamed)
    assert vx.sniff(renamed)[0].name == "alpha"


def test_ranking_is_total_and_lists_every_format(tiny_registry, tmp_path):
    path = tmp_path / "f.alp"
    path.write_bytes(b"ALPHA...")
    candidates = vx.sniff(path)
    assert sorted(c.name for c in candidates) == sorted(s.name for s in TINY_FORMATS)
    accepted = [c.name for c in candidates if c.accepted]
    assert accepted[:2] == ["alpha", "gamma"]
    assert "delta" in accepted  # content-only candidate, after the extension ones
    assert accepted.index("delta") > accepted.index("gamma")
    declined = [c for c in candidates if not c.accepted]
    assert all(c.evidence for c in declined)
    assert [c.name for c in declined] == sorted(c.name for c in declined)


def test_every_spec_sees_only_its_own_sniff_bytes(isolated_registry, tmp_path):
    seen = {}

    def short(prefix, filespec):
        seen["short"] = len(prefix)

    def long(prefix, filespec):
        seen["long"] = len(prefix)

    from tinyformats import tiny

    vx.register_format(tiny("s1", extensions=(".q",), sniff=short, sniff_bytes=4))
    vx.register_format(tiny("s2", extensions=(".q",), sniff=long, sniff_bytes=100))
    path = tmp_path / "f.q"
    path.write_bytes(bytes(50))
    vx.sniff(path)
    assert seen == {"short": 4, "long": 50}


def test_explicit_format_wins(tiny_registry, tmp_path):
    path = tmp_path / "f.alp"
    path.write_bytes(b"ALPHA...")
    assert vx.load(path, format="delta").format_name == "delta"
    with pytest.raises(ImageFileError, match="unknown format 'nope'"):
        vx.load(path, format="nope")
    with pytest.raises(ImageFileError, match="voxelio-mgh"):
        vx.load(path, format="mgh")


def test_missing_and_empty_files(tiny_registry, tmp_path):
    with pytest.raises(FileNotFoundError):
        vx.load(tmp_path / "missing.alp")
    empty = tmp_path / "empty.alp"
    empty.write_bytes(b"")
    with pytest.raises(ImageFileError, match="empty"):
        vx.load(empty)
    with pytest.raises(ImageFileError, match="directory"):
        vx.load(tmp_path)


def test_load_accepts_str_and_pathlike(tiny_registry, tmp_path):
    path = tmp_path / "f.alp"
    path.write_bytes(b"ALPHA...")
    assert vx.load(str(path)).format_name == vx.load(path).format_name == "alpha"
    with pytest.raises(TypeError):
        vx.load(b"f.alp")


def test_no_formats_at_all(isolated_registry, tmp_path):
    path = tmp_path / "f.xyz"
    path.write_bytes(b"data")
    with pytest.raises(ImageFileError, match="no formats are installed"):
        vx.load(path)


def test_sniff_that_raises_is_isolated(tiny_registry, tmp_path):
    from tinyformats import tiny

    def bad(prefix, filespec):
        raise ValueError("boom")

    vx.register_format(tiny("bad", extensions=(".alp",), sniff=bad, sniff_bytes=2))
    path = tmp_path / "f.alp"
    path.write_bytes(b"ALPHA...")
    with pytest.warns(vx.registry.PluginWarning, match="sniff raised ValueError: boom"):
        assert vx.load(path).format_name == "alpha"
    status = {f.name: f.status for f in vx.formats()}
    assert "sniff raised ValueError" in status["bad"]
    assert status["alpha"] == "ok"
    assert "bad" not in [c.name for c in dispatch.rank(str(path), tiny_registry)]


def test_malformed_sniff_result_is_isolated(isolated_registry, tmp_path):
    from tinyformats import tiny

    vx.register_format(tiny("odd", extensions=(".odd",), sniff=lambda p, f: 42, sniff_bytes=1))
    path = tmp_path / "f.odd"
    path.write_bytes(b"x")
    with (
        pytest.warns(vx.registry.PluginWarning, match="sniff returned 42"),
        pytest.raises(ImageFileError),
    ):
        vx.load(path)


def test_install_hint_when_not_installed(monkeypatch, tmp_path):
    from voxelio.registry import discovery, store

    monkeypatch.setattr(discovery, "_entry_points", lambda: [])
    # the files on sys.path still hold every plugin: a stored discovery would say so
    monkeypatch.setenv("VOXELIO_CACHE_DIR", "")
    reg = store.Registry(environ={}).build()
    path = tmp_path / "scan.NII.GZ"
    hints = dispatch.install_hints(str(path), reg)
    assert hints == [
        "format 'nifti1' (files .nii) comes with voxelio-nifti1, which is not installed: "
        "pip install voxelio-nifti1",
        "format 'nifti2' (files .nii) comes with voxelio-nifti2, which is not installed: "
        "pip install voxelio-nifti2",
    ]
    assert dispatch.install_hints(str(tmp_path / "x.unknown"), reg) == []


def test_text_placeholder_named_like_an_image_says_so(tmp_path):
    path = tmp_path / "brain.nii.gz"
    path.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 42\n")
    with pytest.raises(vx.ImageFileError) as info:
        vx.load(path)
    message = str(info.value)
    assert "plain text" in message and "git-lfs" in message
    assert "not compressed" in message


def test_a_refusal_for_missing_magic_names_the_rules_it_tried():
    def spec(*rules):
        return vx.FormatSpec(name="fmt", image_class="pkg.mod:Image", extensions=(".fmt",),
                             magic=rules)

    def refusal(spec):
        said = dispatch.content_verdict(spec, b"\0" * 16, None)
        assert said.verdict == "no"
        return said.evidence

    assert refusal(spec((4, b"AB"))) == "no magic b'AB' at offset 4"
    assert refusal(spec((4, b"AB"), (4, b"CD"))) == "no magic b'AB' or b'CD' at offset 4"
    assert (refusal(spec((0, b"AB"), (4, b"CD")))
            == "no magic b'AB' at offset 0 or b'CD' at offset 4")
    many = spec(*((i, b"X") for i in range(5)))
    assert refusal(many) == ("no magic b'X' at offset 0 or b'X' at offset 1 or b'X' at offset 2"
                             " (nor 2 other magic rules)")

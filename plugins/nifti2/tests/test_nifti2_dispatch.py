"""Which plugin reads a NIfTI-2 file, with and without voxelio-nifti2 installed."""

import warnings

import numpy as np
import pytest

import voxelio as vx
from voxelio.registry import discovery, store
from voxelio_nifti1.image import Nifti1Image
from voxelio_nifti2.image import Nifti2Image
from voxelio_nifti2.plugin import sniff_pair, sniff_single


@pytest.fixture
def files(tmp_path):
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    paths = {}
    for klass, name in ((Nifti1Image, "one.nii"), (Nifti2Image, "two.nii"),
                        (Nifti2Image, "two.dat")):
        path = tmp_path / name
        path.write_bytes(klass(data, np.eye(4)).to_bytes())
        paths[name] = path
    cifti = Nifti2Image(np.zeros((1, 1, 1, 1, 2, 5), np.float32), None)
    cifti.header.set_intent("ConnDenseScalar", name="ConnDenseScalar")
    cifti.header.extensions.append(vx.Nifti1Extension(32, "<CIFTI Version='2'/>"))
    paths["c.dscalar.nii"] = tmp_path / "c.dscalar.nii"
    paths["c.dscalar.nii"].write_bytes(cifti.to_bytes())
    return paths


def test_each_version_goes_to_its_plugin(files):
    assert vx.load(files["one.nii"]).format_name == "nifti1"
    assert vx.load(files["two.nii"]).format_name == "nifti2"
    assert vx.load(files["two.dat"]).format_name == "nifti2"  # by content alone
    cifti = vx.load(files["c.dscalar.nii"])
    assert type(cifti) is Nifti2Image and cifti.header.is_cifti()
    assert cifti.header.get_intent()[0] == "ConnDenseScalar"
    first = vx.sniff(files["c.dscalar.nii"])[0]
    assert first.name == "nifti2" and "CIFTI-2 container" in first.evidence


def test_sniff_verdicts():
    two = Nifti2Image(np.zeros((2, 2, 2), np.uint8), np.eye(4)).to_bytes()
    one = Nifti1Image(np.zeros((2, 2, 2), np.uint8), np.eye(4)).to_bytes()
    assert sniff_single(two, None).verdict == "yes"
    assert sniff_pair(two, None).verdict == "weak"
    big_header = Nifti2Image.header_class(endianness=">")
    big = Nifti2Image(np.zeros((2, 2, 2), np.uint8), np.eye(4), big_header).to_bytes()
    assert sniff_single(big, None) == ("yes", "big-endian NIfTI-2 single file (magic b'n+2')", 8)
    refusal = sniff_single(one, None)
    assert refusal.verdict == "no" and "NIfTI-1" in refusal.evidence
    assert sniff_single(b"", None).verdict == "no"
    assert sniff_single(two[:7], None).verdict == "no"


def test_top_level_names():
    assert vx.Nifti2Image is Nifti2Image
    assert vx.Nifti2Header is Nifti2Image.header_class
    assert vx.Nifti2Pair.__name__ == "Nifti2Pair"


@pytest.fixture
def without_nifti2(monkeypatch):
    """The global registry as if voxelio-nifti2 were not installed."""
    found = discovery._entry_points()
    kept = [ep for ep in found if getattr(ep.dist, "name", None) != "voxelio-nifti2"]
    assert len(kept) < len(found)
    monkeypatch.setattr(discovery, "_entry_points", lambda: kept)
    # the files on sys.path still hold the plugin: a stored discovery would say so
    monkeypatch.setenv("VOXELIO_CACHE_DIR", "")
    saved = store._registry
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", discovery.PluginWarning)
        store._registry = store.Registry(environ={}).build()
    yield
    store._registry = saved


def test_without_the_plugin_nifti1_refuses_and_the_hint_names_it(files, without_nifti2):
    for name, what in (("two.nii", "a NIfTI-2 file"), ("c.dscalar.nii", "a CIFTI-2 file")):
        with pytest.raises(vx.ImageFileError) as info:
            vx.load(files[name])
        message = str(info.value)
        assert f"nifti1: this is {what}" in message
        assert "voxelio-nifti1 reads NIfTI-1 only (a NIfTI-2/CIFTI-2 plugin is needed)" in message
        assert "pip install voxelio-nifti2" in message
    assert vx.load(files["one.nii"]).format_name == "nifti1"
    with pytest.raises(AttributeError, match="voxelio-nifti2"):
        vx.Nifti2Image  # noqa: B018


def test_formats_lists_both_nifti2_formats():
    rows = {info.name: info for info in vx.formats()}
    assert rows["nifti2"].distribution == "voxelio-nifti2" and rows["nifti2"].status == "ok"
    assert ".nii.gz" in rows["nifti2"].extensions and ".hdr" in rows["nifti2-pair"].extensions


def test_voxelio_formats_command_lists_them():
    import os
    import subprocess
    import sys

    exe = os.path.join(os.path.dirname(sys.executable), "voxelio")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXELIO_")}
    done = subprocess.run([exe, "formats"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[1:] if line.strip()}
    for name, suffixes in (("nifti2", ".nii"), ("nifti2-pair", ".hdr .img")):
        assert "voxelio-nifti2 0.1.0" in rows[name] and suffixes in rows[name]
        assert rows[name].rstrip().endswith("ok")

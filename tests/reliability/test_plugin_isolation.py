"""A misbehaving plugin cannot stall or break loading of other formats.

Real plugin modules are written at run time and loaded through
VOXELIO_PLUGINS: sniffs that hang, sleep or raise; readers that raise plain
exceptions or return something that is not an image; image modules that
cannot be imported; plugins shadowed by installed ones. Anything that could
hang runs in a child process with a timeout.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import ImageFileError
from voxelio.registry import Health, store

_serial = itertools.count()


def write_toy(path) -> str:
    vx.save(vx.ToyImage(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.eye(4)), str(path))
    return str(path)


def plugin_source(formats: str, extra: str = "") -> str:
    head = (
        "import os, sys, time\n"
        "from voxelio.hookspecs import hookimpl\n"
        "from voxelio.registry import FormatSpec\n"
    )
    body = f"\n@hookimpl\ndef voxelio_formats():\n    return [{formats}]\n"
    return head + textwrap.dedent(extra) + body


def run_child(tmp_path, code: str, env: dict[str, str]) -> dict:
    full = {k: v for k, v in os.environ.items() if not k.startswith("VOXELIO_")}
    full.update(env, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env=full, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


CHILD = """
import json, sys, warnings
import voxelio as vx
out = {"formats": [], "warnings": []}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for path in sys.argv[1:] or PATHS:
        out["formats"].append(vx.load(path).format_name)
    out["status"] = {f.name: f.status for f in vx.formats()}
out["warnings"] = [str(w.message) for w in caught if w.category is vx.PluginWarning]
print(json.dumps(out))
"""


def child(tmp_path, paths: list[str], plugin: str, **env: str) -> dict:
    return run_child(tmp_path, f"PATHS = {paths!r}\n" + CHILD, {"VOXELIO_PLUGINS": plugin, **env})


HANGING = plugin_source(
    'FormatSpec(name="hang", image_class="voxelio_toy.image:ToyImage", extensions=(".hang",),'
    " sniff=sniff, sniff_bytes=4)",
    """
    MARK = os.path.join(os.path.dirname(__file__), "sniff-calls")

    def sniff(prefix, filespec):
        with open(MARK, "a") as f:
            f.write("called\\n")
        while True:  # a sniff stuck in a loop
            pass
    """,
)

SLEEPY = plugin_source(
    'FormatSpec(name="sleepy", image_class="voxelio_toy.image:ToyImage", extensions=(".slp",),'
    " sniff=sniff, sniff_bytes=4)",
    """
    MARK = os.path.join(os.path.dirname(__file__), "sniff-finished")

    def sniff(prefix, filespec):
        time.sleep(3)
        open(MARK, "w").close()
        return "weak"
    """,
)


def test_a_hanging_sniff_of_another_format_is_never_consulted(tmp_path):
    (tmp_path / "hangplug.py").write_text(HANGING)
    toy = write_toy(tmp_path / "a.toy")
    out = child(tmp_path, [toy, toy], "hangplug")
    assert out["formats"] == ["toy", "toy"]
    assert not (tmp_path / "sniff-calls").exists()
    assert not [w for w in out["warnings"] if "hangplug" in w]
    assert out["status"]["hang"] == "ok"


def test_a_hanging_sniff_is_cut_off_once_when_content_decides(tmp_path):
    (tmp_path / "hangplug.py").write_text(HANGING)
    first = tmp_path / "a.dat"
    os.rename(write_toy(tmp_path / "a.toy"), first)
    second = tmp_path / "b.dat"
    os.rename(write_toy(tmp_path / "b.toy"), second)
    out = child(
        tmp_path, [str(first), str(second)], "hangplug", VOXELIO_SNIFF_TIMEOUT="0.5"
    )
    assert out["formats"] == ["toy", "toy"]
    assert (tmp_path / "sniff-calls").read_text() == "called\n"  # skipped after the first
    hang_warnings = [w for w in out["warnings"] if "'hangplug'" in w]
    assert len(hang_warnings) == 1
    assert "sniff did not answer within 0.5 s" in hang_warnings[0]
    assert out["status"]["hang"].startswith("broken: format 'hang': sniff did not answer")


def test_a_slow_sniff_is_not_waited_for(tmp_path):
    (tmp_path / "sleepy.py").write_text(SLEEPY)
    path = tmp_path / "a.dat"
    os.rename(write_toy(tmp_path / "a.toy"), path)
    out = child(tmp_path, [str(path)], "sleepy", VOXELIO_SNIFF_TIMEOUT="0.3")
    assert out["formats"] == ["toy"]
    # the process ended before the 3 s sniff could finish: the load did not wait
    assert not (tmp_path / "sniff-finished").exists()
    assert any("sleepy" in w and "did not answer within 0.3 s" in w for w in out["warnings"])


def test_a_name_claimed_by_a_sniffing_format_still_times_out(tmp_path):
    (tmp_path / "hangplug.py").write_text(HANGING)
    path = tmp_path / "a.hang"
    os.rename(write_toy(tmp_path / "a.toy"), path)
    out = child(tmp_path, [str(path)], "hangplug", VOXELIO_SNIFF_TIMEOUT="0.5")
    assert out["formats"] == ["toy"]  # content fallback after the claimant gave no answer
    assert "did not answer" in out["status"]["hang"]


# -- readers that fail in other ways than a VoxelioError --------------------------------
@pytest.fixture
def run_time_plugins(tmp_path, monkeypatch):
    """``install(source)``: load one plugin module via VOXELIO_PLUGINS in this process."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def install(source: str) -> str:
        name = f"vxrel_{next(_serial)}"
        (tmp_path / f"{name}.py").write_text(source.replace("MODULE", name))
        monkeypatch.setenv("VOXELIO_PLUGINS", name)
        store.refresh()
        return name

    yield install
    monkeypatch.delenv("VOXELIO_PLUGINS", raising=False)
    store.refresh()


def bad_reader_plugin(body: str) -> str:
    # same magic as toy and `supersedes` it: this reader is tried first
    return plugin_source(
        'FormatSpec(name="grabby", image_class="MODULE:GrabbyImage", extensions=(".toy",),'
        ' magic=[(0, b"VXT1")], supersedes=("toy",))',
        f"""
        class GrabbyImage:
            @classmethod
            def from_filename(cls, filename, **kwargs):
        {textwrap.indent(textwrap.dedent(body), " " * 8)}
        """,
    )


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("raise ValueError('cannot parse this')", "its reader raised ValueError: cannot parse"),
        ("return {}['missing']", "its reader raised KeyError: 'missing'"),
    ],
)
def test_a_reader_raising_a_plain_exception_falls_back(run_time_plugins, tmp_path, body, said):
    name = run_time_plugins(bad_reader_plugin(body))
    path = write_toy(tmp_path / "a.toy")
    with pytest.warns(vx.PluginWarning) as caught:
        img = vx.load(path)
        assert vx.load(path).format_name == "toy"
    assert img.format_name == "toy"
    mine = [str(w.message) for w in caught if name in str(w.message)]
    assert len(mine) == 1 and said in mine[0] and "trying the next format" in mine[0]
    assert {f.name: f.status for f in vx.formats()}["grabby"] == "ok"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("return None", "returned None, not an image"),
        ("return 'an image'", "returned a builtins.str"),
    ],
)
def test_a_reader_returning_a_non_image_is_broken(run_time_plugins, tmp_path, body, said):
    name = run_time_plugins(bad_reader_plugin(body))
    path = write_toy(tmp_path / "a.toy")
    with pytest.warns(vx.PluginWarning, match=name):
        assert vx.load(path).format_name == "toy"
    info = {f.name: f for f in vx.formats()}["grabby"]
    assert info.state.health is Health.BROKEN and said in info.status


def test_keyboard_interrupt_in_a_reader_is_never_caught(run_time_plugins, tmp_path):
    run_time_plugins(bad_reader_plugin("raise KeyboardInterrupt"))
    with pytest.raises(KeyboardInterrupt):
        vx.load(write_toy(tmp_path / "a.toy"))


def test_every_reader_failing_lists_each_once(run_time_plugins, tmp_path):
    run_time_plugins(bad_reader_plugin("raise ValueError('nope')"))
    path = tmp_path / "a.toy"
    path.write_bytes(b"VXT1" + b"\0" * 10)  # toy's magic, then garbage
    with pytest.warns(vx.PluginWarning), pytest.raises(ImageFileError) as err:
        vx.load(path)
    text = str(err.value)
    assert "grabby: its reader raised ValueError: nope" in text
    assert "toy:" in text.split("formats that tried and failed:")[1]


# -- formats shows what a load would find --------------------------------------------------
MISSING_IMAGE_MODULE = plugin_source(
    'FormatSpec(name="ghost", image_class="MODULE_image_gone:GhostImage", extensions=(".gst",))'
)


def test_formats_reports_an_image_module_that_cannot_be_imported(run_time_plugins, tmp_path):
    name = run_time_plugins(MISSING_IMAGE_MODULE)
    with pytest.warns(vx.PluginWarning, match="cannot import image class"):
        info = {f.name: f for f in vx.formats()}["ghost"]
    assert info.state.health is Health.BROKEN
    assert info.state.cause.error_type == "ModuleNotFoundError"
    assert f"No module named '{name}_image_gone'" in info.status


def test_a_failed_import_is_listed_once_in_the_load_error(run_time_plugins, tmp_path):
    run_time_plugins(MISSING_IMAGE_MODULE)
    path = tmp_path / "a.gst"
    path.write_bytes(b"not an image at all, but binary \x00\x01")
    with pytest.warns(vx.PluginWarning), pytest.raises(ImageFileError) as err:
        vx.load(path)
    text = str(err.value)
    assert len([line for line in text.splitlines() if "ghost" in line]) == 1, text
    assert "formats that tried and failed:\n  - ghost: ImageFileError: format 'ghost'" in text
    # a sniff that broke during this very load is listed where it declined, only there
    assert len([line for line in text.splitlines() if "sniff always fails" in line]) <= 1


def test_a_voxelio_plugins_module_shadowed_by_an_entry_point_is_shown(tmp_path):
    (tmp_path / "toylab.py").write_text(
        plugin_source('FormatSpec(name="toy", image_class="x.y:Z", extensions=(".toy",))')
    )
    code = """
    import json, voxelio as vx
    rows = [[f.name, f.plugin, f.status] for f in vx.formats() if f.name in
            ("toy", "toylab", "voxelio_toy.plugin")]
    print(json.dumps(rows))
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
        env={**os.environ,
             "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
             "VOXELIO_PLUGINS": "toylab,voxelio_toy.plugin"},
        timeout=120,
    )
    rows = json.loads(done.stdout)
    assert ["toy", "voxelio-toy (entry point 'toy')", "ok"] in rows
    assert [
        "toy", "'toylab' (VOXELIO_PLUGINS)",
        "shadowed: format 'toy' is already provided by voxelio-toy (entry point 'toy')",
    ] in rows
    same = [r for r in rows if r[0] == "voxelio_toy.plugin"]
    assert same == [[
        "voxelio_toy.plugin", "'voxelio_toy.plugin' (VOXELIO_PLUGINS)",
        "shadowed: the same module is loaded by voxelio-toy (entry point 'toy')",
    ]]
    assert "is shadowed" in done.stderr

"""Health as data: an enum and a cause, rendered as the status strings users read."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import voxelio as vx
from voxelio.registry import Cause, Health, Status, dispatch
from voxelio.registry.discovery import PluginRecord
from voxelio.registry.health import OK, broken, describe_exception
from voxelio.registry.spec import FormatSpec, spec_from_class
from voxelio.registry.store import FormatEntry


def test_status_text_and_data():
    assert str(OK) == "ok" and OK.ok and OK.health is Health.OK
    try:
        raise ValueError("bad\n- first\n- second")
    except ValueError as exc:
        state = broken("cannot import x.plugin", exc)
    assert state.health is Health.BROKEN and not state.ok
    assert state.cause == Cause("cannot import x.plugin", "ValueError", "bad: first; second")
    assert str(state) == "broken: cannot import x.plugin: ValueError: bad: first; second"
    assert str(Status(Health.DISABLED, Cause("VOXELIO_DISABLE_PLUGINS"))) == (
        "disabled by VOXELIO_DISABLE_PLUGINS"
    )
    assert str(Status(Health.BROKEN, Cause("sniff raised", "KeyError", "'x'"))) == (
        "broken: sniff raised KeyError: 'x'"
    )
    assert describe_exception(KeyError("x")) == "KeyError: 'x'"


def test_a_format_inherits_its_plugins_state():
    record = PluginRecord("lab", "lab.plugin", "VOXELIO_PLUGINS")
    entry = FormatEntry(FormatSpec(name="lab", image_class="a.b:C", extensions=(".lab",)), record)
    assert entry.ok and entry.status == "ok"
    record.state = broken("voxelio_formats() raised", RuntimeError("boom"))
    assert entry.state.health is Health.BROKEN and entry.state.plugin == "lab"
    assert entry.status == "broken: voxelio_formats() raised RuntimeError: boom (plugin 'lab')"


@pytest.fixture
def runtime_cleanup():
    yield
    for name in ("sick", "fine"):
        with contextlib.suppress(KeyError):
            vx.unregister_format(name)


def test_format_info_carries_the_state(runtime_cleanup):
    def sniff(prefix, filespec):
        raise KeyError("no such field")

    vx.register_format(FormatSpec(name="sick", image_class="x.y:Z", extensions=(".sick",),
                                  sniff=sniff, sniff_bytes=4))
    with pytest.warns(vx.PluginWarning, match="format 'sick': sniff raised KeyError"):
        vx.sniff(__file__)
    info = {f.name: f for f in vx.formats()}["sick"]
    assert not info.ok and info.state.health is Health.BROKEN
    assert info.state.cause.error_type == "KeyError"
    assert info.status == "broken: sniff raised KeyError: 'no such field'"


def test_spec_from_class_lives_with_format_spec():
    assert vx.api.spec_from_class is spec_from_class
    spec = spec_from_class(vx.ToyImage, name="toy-again")
    assert spec.name == "toy-again" and ".toy" in spec.extensions and "int16" in spec.dtypes


def test_writer_and_reader_share_one_preference(runtime_cleanup, tmp_path):
    class Img(vx.ToyImage):
        pass

    low = FormatSpec(name="sick", image_class=Img, extensions=(".toy",), priority=1)
    high = FormatSpec(name="fine", image_class=Img, extensions=(".toy",), priority=2)
    vx.register_format(low)
    vx.register_format(high)
    reg = vx.registry.get_registry()
    path = str(tmp_path / "a.toy")
    vx.save(vx.ToyImage(np.zeros((2, 2, 2), np.int16), np.eye(4)), path)
    img = Img(np.zeros((2, 2, 2), np.int16), np.eye(4))
    assert dispatch.choose_writer(img, path, reg).name == "fine"
    pref = {n: dispatch.preference(reg.entries[n].spec, ".toy", reg) for n in ("sick", "fine")}
    assert pref["fine"] < pref["sick"]
    by_rank = [c.name for c in vx.sniff(path) if c.name in ("sick", "fine")]
    assert by_rank == ["fine", "sick"]

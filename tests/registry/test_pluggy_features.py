"""Hooks go through pluggy: tryfirst/trylast, wrappers, specname, tracing work;
what isolation cannot honour is refused, not ignored. Plugins are real modules
loaded through VOXELIO_PLUGINS into the process-wide registry."""

from __future__ import annotations

import itertools
import sys
import textwrap

import numpy as np
import pytest

import voxelio as vx
from voxelio.registry import Health, store

_serial = itertools.count()


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """``plugins(code, code, ...)``: write each as a plugin module, rediscover.

    Every module can append to ``hooklog.calls`` (a module written beside
    them). Returns (registry, module names, the call log).
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    log_name = f"hooklog_{next(_serial)}"
    (tmp_path / f"{log_name}.py").write_text("calls = []\n")

    def build(*codes: str):
        names = []
        for code in codes:
            name = f"vxplug_{next(_serial)}"
            source = "import pluggy\nfrom voxelio.hookspecs import hookimpl\n"
            source += f"from {log_name} import calls\nNAME = {name!r}\n"
            (tmp_path / f"{name}.py").write_text(source + textwrap.dedent(code))
            names.append(name)
        monkeypatch.setenv("VOXELIO_PLUGINS", ",".join(names))
        reg = store.refresh()
        return reg, names, sys.modules[log_name].calls

    yield build
    monkeypatch.delenv("VOXELIO_PLUGINS", raising=False)
    store.refresh()


def toy_path(tmp_path) -> str:
    path = str(tmp_path / "a.toy")
    vx.save(vx.ToyImage(np.zeros((2, 3, 4), np.int16), np.eye(4)), path)
    return path


def record(reg, name):
    return next(p for p in reg.plugins if p.name == name)


AFTER_LOAD = """
@hookimpl{opts}
def voxelio_after_load(format_name):
    calls.append((NAME, format_name))
"""


def test_tryfirst_and_trylast_order_the_plugins(plugins, tmp_path):
    _reg, names, calls = plugins(
        AFTER_LOAD.format(opts="(trylast=True)"),
        AFTER_LOAD.format(opts=""),
        AFTER_LOAD.format(opts="(tryfirst=True)"),
    )
    vx.load(toy_path(tmp_path))
    assert [n for n, _ in calls] == [names[2], names[1], names[0]]
    calls.clear()
    _reg2, names2, calls2 = plugins(AFTER_LOAD.format(opts=""), AFTER_LOAD.format(opts=""))
    vx.load(toy_path(tmp_path))
    # without marks pluggy calls the last registered first
    assert [n for n, _ in calls2] == [names2[1], names2[0]]


def test_a_wrapper_wraps_its_own_plugins_implementations(plugins, tmp_path):
    reg, _names, calls = plugins(
        """
        from voxelio.registry import FormatSpec

        @hookimpl
        def voxelio_formats():
            return [FormatSpec(name="wrapped", image_class="voxelio_toy.image:ToyImage",
                               extensions=(".wrp",), magic=[(0, b"VXT1")])]

        @hookimpl(wrapper=True, specname="voxelio_formats")
        def wrap_formats():
            result = yield
            calls.append(("wrapper saw", [s.name for specs in result for s in specs]))
            return result + [[FormatSpec(name="added-by-wrapper",
                                         image_class="voxelio_toy.image:ToyImage",
                                         extensions=(".awr",))]]

        @hookimpl(hookwrapper=True, specname="voxelio_after_load")
        def old_style_wrapper(format_name):
            calls.append(("before", format_name))
            outcome = yield
            calls.append(("after", outcome.get_result()))

        @hookimpl
        def voxelio_after_load(format_name):
            calls.append(("plain", format_name))
            return "done"
        """
    )
    assert "wrapped" in reg.entries and "added-by-wrapper" in reg.entries
    assert calls == [("wrapper saw", ["wrapped"])]
    calls.clear()
    vx.load(toy_path(tmp_path))
    assert calls == [("before", "toy"), ("plain", "toy"), ("after", ["done"])]


def test_a_wrapper_sees_its_plugins_exception_and_others_still_run(plugins, tmp_path):
    reg, names, calls = plugins(
        """
        @hookimpl(wrapper=True, specname="voxelio_after_load")
        def wrap_after_load(format_name):
            try:
                return (yield)
            except RuntimeError as exc:
                calls.append(("wrapper saw", str(exc)))
                raise

        @hookimpl
        def voxelio_after_load(format_name):
            raise RuntimeError("bad event handler")
        """,
        AFTER_LOAD.format(opts=""),
    )
    with pytest.warns(vx.PluginWarning, match="voxelio_after_load.. raised RuntimeError"):
        vx.load(toy_path(tmp_path))
    assert ("wrapper saw", "bad event handler") in calls
    assert (names[1], "toy") in calls
    state = record(reg, names[0]).state
    assert state.health is Health.BROKEN
    assert state.cause.error_type == "RuntimeError"
    assert state.cause.error_message == "bad event handler"
    assert record(reg, names[1]).ok


def test_specname_names_the_hook(plugins, tmp_path):
    _reg, _names, calls = plugins(
        """
        @hookimpl(specname="voxelio_after_load")
        def remember(format_name):
            calls.append(("specname", format_name))
        """
    )
    vx.load(toy_path(tmp_path))
    assert calls == [("specname", "toy")]


def test_tracing_and_monitoring_see_the_calls(plugins, tmp_path):
    reg, names, _calls = plugins(AFTER_LOAD.format(opts=""))
    seen, traced = [], []
    undo = reg.pm.add_hookcall_monitoring(
        lambda hook_name, impls, kwargs: seen.append((hook_name, [i.plugin_name for i in impls])),
        lambda outcome, hook_name, impls, kwargs: None,
    )
    reg.pm.trace.root.setwriter(traced.append)
    undo_trace = reg.pm.enable_tracing()
    try:
        vx.load(toy_path(tmp_path))
    finally:
        undo()
        undo_trace()
    assert ("voxelio_after_load", [f"VOXELIO_PLUGINS:{names[0]}"]) in seen
    assert any("voxelio_after_load" in line for line in traced)


def test_an_unknown_hook_is_refused_unless_optional(plugins):
    with pytest.warns(vx.PluginWarning, match="voxelio_after_laod"):
        reg, names, _ = plugins(
            """
            @hookimpl
            def voxelio_after_laod(format_name):
                pass
            """,
            """
            @hookimpl(optionalhook=True)
            def other_host_hook():
                pass
            """,
        )
    bad = record(reg, names[0])
    assert bad.state.health is Health.BROKEN
    assert "voxelio_after_laod(), which is no voxelio hook" in bad.status
    assert not reg.pm.is_registered(bad.plugin)  # refused, not silently kept
    assert record(reg, names[1]).ok
    row = {f.name: f for f in vx.formats()}[names[0]]
    assert row.state.health is Health.BROKEN and not row.ok


def test_a_wrapper_without_an_implementation_is_refused(plugins, tmp_path):
    with pytest.warns(vx.PluginWarning, match="only a wrapper"):
        reg, names, calls = plugins(
            """
            @hookimpl(wrapper=True)
            def voxelio_after_load(format_name):
                calls.append("would wrap other plugins")
                return (yield)
            """,
            AFTER_LOAD.format(opts=""),
        )
    bad = record(reg, names[0])
    assert bad.state.health is Health.BROKEN
    assert "only a wrapper for voxelio_after_load()" in bad.status
    vx.load(toy_path(tmp_path))
    assert calls == [(names[1], "toy")]


def test_a_module_named_twice_is_shadowed_not_broken(plugins, monkeypatch):
    reg, names, _ = plugins(AFTER_LOAD.format(opts=""))
    monkeypatch.setenv("VOXELIO_PLUGINS", f"{names[0]},{names[0]}")
    with pytest.warns(vx.PluginWarning, match="is shadowed: the same module is loaded by"):
        reg = store.refresh()
    states = [p.state.health for p in reg.plugins if p.name == names[0]]
    assert states == [Health.OK, Health.SHADOWED]
    rows = [f for f in vx.formats() if f.name == names[0]]
    assert [r.state.health for r in rows] == [Health.SHADOWED]
    assert rows[0].status.startswith("shadowed: the same module is loaded by")

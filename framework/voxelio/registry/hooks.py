"""The plugin manager: registering plugins and calling their hooks, one plugin at a time.

Every hook call goes through pluggy (``PluginManager.subset_hook_caller``),
so pluggy's features apply to voxelio plugins as pluggy documents them. What
voxelio adds is isolation: each plugin's implementations are called as one
pluggy call of their own, so an exception is charged to the plugin that
raised it and the other plugins still run.

Supported, as pluggy defines them:

- ``tryfirst`` / ``trylast``: the order in which plugins are called for an
  event or policy hook (``voxelio_fix_header``, ``voxelio_after_load``,
  ``voxelio_before_save``, ``voxelio_environment_report``), and the order of
  one plugin's own implementations. Formats are collected in discovery
  order (a name clash is settled by that order, never by call order).
- ``wrapper=True`` and old-style ``hookwrapper=True``: a wrapper wraps the
  implementations of its own plugin for that hook (it sees, and may change,
  that plugin's results and exceptions).
- ``specname=``: an implementation may be named differently from its hook.
- ``optionalhook=True``: an implementation of a hook voxelio does not
  specify is accepted and never called.
- Tracing and monitoring: ``registry.pm.enable_tracing()`` and
  ``registry.pm.add_hookcall_monitoring(before, after)`` see every call.

Refused (the plugin is reported broken, with the reason, never ignored):

- an implementation of a hook voxelio does not specify, without
  ``optionalhook=True`` (usually a misspelt hook name);
- a wrapper for a hook its plugin does not otherwise implement: it could
  only wrap other plugins' implementations, which isolation forbids.

``firstresult`` and ``historic`` are properties of hook specifications,
which voxelio alone defines: format choice never uses ``firstresult``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pluggy

from .. import hookspecs
from .discovery import PluginRecord
from .health import Cause, Health, Status, broken


class _Manager(pluggy.PluginManager):
    """pluggy's manager; options a newer pluggy knows and voxelio's marker does
    not are filled with pluggy's defaults."""

    _defaults = getattr(
        pluggy.HookimplMarker(hookspecs.PROJECT_NAME)(lambda: None),
        f"{hookspecs.PROJECT_NAME}_impl",
        {},
    )

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        return None if opts is None else {**self._defaults, **opts}


class PluginHooks:
    """voxelio's pluggy ``PluginManager`` and the records of its plugins.

    Attributes
    ----------
    pm : pluggy.PluginManager
        The plugin manager (project name ``'voxelio'``); use it for tracing.
    """

    def __init__(self) -> None:
        self.pm = _Manager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self._records: dict[int, PluginRecord] = {}
        self._callers: dict[tuple[str, int], Any] = {}

    def register(self, record: PluginRecord) -> None:
        """Register ``record``'s loaded plugin, or set why it cannot be.

        A module registered already (entry point and ``VOXELIO_PLUGINS``
        naming the same module) leaves ``record`` shadowed.
        """
        if not record.ok or record.plugin is None:
            return
        if self.pm.is_registered(record.plugin):
            first = self._records.get(id(record.plugin))
            by = first.label if first is not None else "another plugin"
            record.state = Status(Health.SHADOWED, Cause(f"the same module is loaded by {by}"))
            return
        try:
            self.pm.register(record.plugin, name=f"{record.source}:{record.name}")
        except Exception as exc:
            record.state = broken("rejected by the plugin manager", exc)
            return
        refusal = self._refusal(record.plugin)
        if refusal:
            self.pm.unregister(record.plugin)
            record.state = broken(refusal)
            return
        self._records[id(record.plugin)] = record
        self._callers.clear()

    def _refusal(self, plugin: Any) -> str:
        """Why pluggy features ``plugin`` uses cannot work under isolation ('' if none)."""
        for caller in self.pm.get_hookcallers(plugin) or ():
            impls = [i for i in caller.get_hookimpls() if i.plugin is plugin]
            if caller.spec is None and not all(i.optionalhook for i in impls):
                return (
                    f"implements {caller.name}(), which is no voxelio hook (misspelt? "
                    "mark it optionalhook=True if it is meant for another host)"
                )
            if caller.spec is not None and all(i.wrapper or i.hookwrapper for i in impls):
                return (
                    f"has only a wrapper for {caller.name}(): voxelio calls each plugin's "
                    "hooks on their own, so a wrapper wraps its own plugin's implementations"
                )
        return ""

    def implemented(self, record: PluginRecord) -> tuple[str, ...]:
        """The voxelio hooks ``record``'s plugin implements, ``voxelio_formats`` aside."""
        if record.plugin is None or not self.pm.is_registered(record.plugin):
            return ()
        callers = self.pm.get_hookcallers(record.plugin) or ()
        names = {c.name for c in callers if c.spec is not None} - {"voxelio_formats"}
        return tuple(sorted(names))

    def call(self, hook_name: str, record: PluginRecord, kwargs: dict[str, Any]) -> list[Any]:
        """Call ``record``'s implementations of ``hook_name`` through pluggy.

        Returns pluggy's list of results (None results left out); exceptions
        propagate to the caller, which charges them to ``record``.
        """
        caller = self._caller(hook_name, record)
        return [] if caller is None else caller(**kwargs)

    def call_order(self, hook_name: str, records: Iterable[PluginRecord]) -> list[PluginRecord]:
        """``records`` implementing ``hook_name``, in pluggy's call order.

        Pluggy calls the last registered implementation first, after those
        marked ``tryfirst`` and before those marked ``trylast``.
        """
        caller = getattr(self.pm.hook, hook_name)
        wanted = {id(r.plugin): r for r in records if r.plugin is not None}
        ordered: dict[int, PluginRecord] = {}
        for impl in reversed(caller.get_hookimpls()):
            record = wanted.get(id(impl.plugin))
            if record is not None and not (impl.wrapper or impl.hookwrapper):
                ordered.setdefault(id(impl.plugin), record)
        return list(ordered.values())

    def _caller(self, hook_name: str, record: PluginRecord) -> Any:
        key = (hook_name, id(record.plugin))
        if key not in self._callers:
            caller = getattr(self.pm.hook, hook_name)
            mine = [i for i in caller.get_hookimpls() if i.plugin is record.plugin]
            others = [p for p in self.pm.get_plugins() if p is not record.plugin]
            self._callers[key] = (
                self.pm.subset_hook_caller(hook_name, remove_plugins=others) if mine else None
            )
        return self._callers[key]

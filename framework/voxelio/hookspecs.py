"""Hook specifications: what a voxelio plugin may implement.

A plugin is a module (or any object) registered with a
``pluggy.PluginManager`` of project name ``"voxelio"``. Mark its functions
with :data:`hookimpl`; each must be named after one of the specifications
below and may accept any subset of its arguments.

Packaging a plugin::

    # pyproject.toml of distribution "voxelio-minc"
    [project.entry-points."voxelio.plugins"]
    minc = "voxelio_minc.plugin"

    # voxelio_minc/plugin.py -- keep it light: no numpy, no reader code
    from voxelio.hookspecs import hookimpl
    from voxelio.registry import FormatSpec

    @hookimpl
    def voxelio_formats():
        return [FormatSpec(name="minc1", image_class="voxelio_minc.image:Minc1Image",
                           extensions=(".mnc",), magic=[(0, b"CDF\\x01")])]

Without packaging, ``VOXELIO_PLUGINS="my_lab.voxelio_plugin"`` loads the
module at discovery time.

Isolation: voxelio calls each plugin's implementations through pluggy, one
plugin at a time. An exception from a plugin (other than a deliberate
:class:`~voxelio.errors.VoxelioError` veto from :func:`voxelio_before_save`)
marks that plugin broken for the session: one warning names it and the
cause, ``voxelio.formats()`` shows it, and the other plugins keep working.
Format choice never uses ``firstresult``.

Pluggy features (``tryfirst``/``trylast``, ``wrapper``/``hookwrapper``,
``specname``, ``optionalhook``, tracing) work as pluggy defines them, within
that isolation: a wrapper wraps its own plugin's implementations. What is
supported and what is refused is listed in :mod:`voxelio.registry.hooks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

PROJECT_NAME = "voxelio"


class _Marker:
    """A decorator that records pluggy's options on a function, as pluggy's own
    markers do (attribute ``voxelio_impl`` or ``voxelio_spec``), without
    importing pluggy: plugin modules import this one, and a process that never
    calls a hook never imports pluggy.
    """

    def __init__(self, suffix: str, defaults: dict[str, Any]) -> None:
        self._attr = f"{PROJECT_NAME}_{suffix}"
        self._defaults = defaults

    def __call__(self, function: Callable | None = None, **options: Any) -> Any:
        unknown = sorted(set(options) - set(self._defaults))
        if unknown:
            known = ", ".join(sorted(self._defaults))
            raise TypeError(f"unknown option(s) {', '.join(unknown)}; known: {known}")

        def mark(func: Callable) -> Callable:
            setattr(func, self._attr, {**self._defaults, **options})
            return func

        return mark if function is None else mark(function)


#: Decorator marking a hook specification (used by voxelio itself); takes
#: pluggy's ``firstresult``, ``historic``, ``warn_on_impl``, ``warn_on_impl_args``.
hookspec = _Marker(
    "spec",
    {"firstresult": False, "historic": False, "warn_on_impl": None, "warn_on_impl_args": None},
)
#: Decorator plugin authors put on their hook implementations; takes pluggy's
#: ``tryfirst``, ``trylast``, ``wrapper``, ``hookwrapper``, ``optionalhook``, ``specname``.
hookimpl = _Marker(
    "impl",
    {
        "wrapper": False,
        "hookwrapper": False,
        "optionalhook": False,
        "tryfirst": False,
        "trylast": False,
        "specname": None,
    },
)


@hookspec
def voxelio_formats() -> Sequence[Any]:
    """Declare the formats this plugin provides.

    Called once per discovery, with no arguments.

    Returns
    -------
    sequence of voxelio.registry.FormatSpec
        One spec per format. Building them must import nothing heavy: the
        image class is named as a ``"module:attr"`` string.
    """


@hookspec
def voxelio_fix_header(header: Any, format_name: str, path: str | None) -> Sequence[str] | None:
    """Policy: adjust a freshly loaded header in place (site conventions).

    Called after a successful load, before :func:`voxelio_after_load`.

    Parameters
    ----------
    header : Header
        The loaded image's header; modify it in place.
    format_name : str
        Name of the format that loaded it.
    path : str or None
        The file name given to ``load``.

    Returns
    -------
    sequence of str or None
        Descriptions of the fixes made; voxelio logs them on the
        ``voxelio`` logger at INFO level.
    """


@hookspec
def voxelio_after_load(image: Any, path: str | None, format_name: str) -> None:
    """Event: an image has been loaded by ``voxelio.load``.

    Parameters
    ----------
    image : SpatialImage
        The loaded image (``image.format_name`` is set).
    path : str or None
        The file name given to ``load``.
    format_name : str
        Name of the format that loaded it.
    """


@hookspec
def voxelio_before_save(image: Any, path: str, format_name: str) -> None:
    """Event and veto: ``voxelio.save`` is about to write ``image`` to ``path``.

    ``image`` is already converted to the target format's class. Raise a
    :class:`~voxelio.errors.VoxelioError` to refuse the save (the error
    reaches the caller, nothing is written); any other exception marks the
    plugin broken and the save goes on.
    """


@hookspec
def voxelio_environment_report() -> Mapping[str, str] | None:
    """Describe the plugin's environment for bug reports.

    ``voxelio formats --verbose`` prints every plugin's report.

    Returns
    -------
    mapping of str to str or None
        Labelled facts, e.g. ``{"libminc": "2.4.06"}``.
    """


__all__ = [
    "PROJECT_NAME",
    "hookimpl",
    "hookspec",
    "voxelio_after_load",
    "voxelio_before_save",
    "voxelio_environment_report",
    "voxelio_fix_header",
    "voxelio_formats",
]

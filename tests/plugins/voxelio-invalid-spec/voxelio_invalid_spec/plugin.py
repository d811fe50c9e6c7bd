"""A plugin whose spec is invalid: voxelio_formats() raises InvalidSpecError."""

from voxelio.hookspecs import hookimpl
from voxelio.registry import FormatSpec


@hookimpl
def voxelio_formats() -> list[FormatSpec]:
    """A spec with a bad name, a bad extension and no image class reference."""
    return [FormatSpec(name="Invalid Spec", image_class="not a reference", extensions=("inv",))]

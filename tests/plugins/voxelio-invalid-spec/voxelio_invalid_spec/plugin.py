"""A plugin whose spec is invalid: voxelio_formats() raises InvalidSpecError."""

from voxelio.plugin import FormatSpec, hookimpl


@hookimpl
def voxelio_formats() -> list[FormatSpec]:
    """A spec with a bad name, a bad extension and no image class reference."""
    return [FormatSpec(name="Invalid Spec", image_class="not a reference", extensions=("inv",))]

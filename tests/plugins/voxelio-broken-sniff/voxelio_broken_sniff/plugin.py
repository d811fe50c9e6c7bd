"""A format whose sniff function raises on every file."""

from voxelio.plugin import FormatSpec, hookimpl


def sniff(prefix: bytes, filespec: str | None) -> str:
    """Raise, as a buggy sniff would."""
    raise RuntimeError("this sniff always fails")


@hookimpl
def voxelio_formats() -> list[FormatSpec]:
    """One format with a faulty sniff."""
    return [
        FormatSpec(
            name="broken-sniff",
            image_class="voxelio_broken_sniff.no_such_module:Image",
            extensions=(".bsn",),
            sniff=sniff,
            sniff_bytes=4,
        )
    ]

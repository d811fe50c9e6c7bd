"""The conformance kit run on the toy format (the kit's own test)."""

from voxelio.testing import FormatConformance


class TestToyConformance(FormatConformance):
    format_name = "toy"

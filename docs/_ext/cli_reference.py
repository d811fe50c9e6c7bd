"""A Sphinx directive that writes a command-line reference from an argparse parser.

``.. cli-reference:: package.module:function`` calls ``function()``, which
returns an :class:`argparse.ArgumentParser`, and renders the command and
each of its sub-commands (recursively): usage, description, positional
arguments and options, each option as a ``std:option`` so pages can link to
it (``:option:`voxelio convert --dtype```). Each sub-command also gets a
label ``cli-<prog with dashes>`` (``cli-voxelio-convert``).

The reference is generated at build time, so it cannot drift from the
parser the command really uses.
"""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Iterator

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

#: usage lines are wrapped at this width whatever the terminal building the docs
USAGE_WIDTH = 78
_RST_SPECIAL = re.compile(r"([\\`*|_\[\]])")
_OPTION_MENTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def load_parser(target: str) -> argparse.ArgumentParser:
    """Import ``module:function`` and call it to get the parser."""
    module_name, _, function_name = target.partition(":")
    if not function_name:
        raise ValueError(f"cli-reference wants 'module:function', got {target!r}")
    parser = getattr(importlib.import_module(module_name), function_name)()
    if not isinstance(parser, argparse.ArgumentParser):
        raise TypeError(f"{target}() returned {type(parser).__name__}, not an ArgumentParser")
    return parser


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """The parser's sub-commands in declaration order: (name, one-line help, parser).

    Aliases of a sub-command are left out (the same parser under another name).
    """
    found = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        summaries = {choice.dest: choice.help or "" for choice in action._choices_actions}
        seen: set[int] = set()
        for name, subparser in action.choices.items():
            if id(subparser) in seen:
                continue
            seen.add(id(subparser))
            found.append((name, summaries.get(name, ""), subparser))
    return found


def escape(text: str) -> str:
    """Text from the parser as reStructuredText: no markup, options as code.

    Option names in help texts become inline literals, which also keeps the
    typographic smart quotes from turning ``--`` into a dash.
    """
    text = _RST_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return _OPTION_MENTION.sub(r"``\1``", text)


def _formatter(parser: argparse.ArgumentParser) -> argparse.HelpFormatter:
    return parser.formatter_class(prog=parser.prog, width=USAGE_WIDTH)


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = _formatter(parser)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups,
                        prefix="")
    return formatter.format_help().strip()


def _documented_actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            continue  # the sub-commands get sections of their own
        yield action


def _option_lines(parser: argparse.ArgumentParser, positional: bool) -> list[str]:
    formatter = _formatter(parser)
    lines: list[str] = []
    for action in _documented_actions(parser):
        if bool(action.option_strings) == positional:
            continue
        invocation = formatter._format_action_invocation(action)
        help_text = formatter._expand_help(action) if action.help else ""
        lines += [f".. option:: {invocation}", ""]
        if help_text:
            lines += [f"   {escape(help_text)}", ""]
    return lines


def _label(prog: str) -> str:
    return "cli-" + re.sub(r"[^a-z0-9]+", "-", prog.lower()).strip("-")


def command_lines(parser: argparse.ArgumentParser, summary: str = "",
                  heading_levels: str = "-~^\"'") -> list[str]:
    """reStructuredText for one command and, below it, its sub-commands."""
    prog = parser.prog
    lines = [f".. _{_label(prog)}:", "", prog, heading_levels[0] * len(prog), ""]
    for text in dict.fromkeys(t for t in (summary, parser.description) if t):
        lines += [escape(text), ""]
    lines += ["::", ""] + ["   " + line for line in _usage(parser).splitlines()] + [""]
    lines += [f".. program:: {prog}", ""]
    arguments = _option_lines(parser, positional=True)
    options = _option_lines(parser, positional=False)
    if arguments:
        lines += ["**Arguments**", "", *arguments]
    if options:
        lines += ["**Options**", "", *options]
    if parser.epilog:
        lines += [escape(parser.epilog), ""]
    for _name, sub_summary, subparser in subcommands(parser):
        lines += command_lines(subparser, sub_summary, heading_levels[1:])
    return lines


class CliReference(SphinxDirective):
    """``.. cli-reference:: module:function`` (see the module docstring)."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        parser = load_parser(self.arguments[0])
        source, _line = self.get_source_info()
        container = nodes.section()
        container.document = self.state.document
        content = StringList(command_lines(parser), source=source)
        nested_parse_with_titles(self.state, content, container)
        return container.children


def setup(app: Sphinx) -> dict[str, object]:
    """Register the directive with Sphinx."""
    app.add_directive("cli-reference", CliReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

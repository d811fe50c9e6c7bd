"""The quick entry-point scan finds what importlib-metadata finds."""

from __future__ import annotations

import importlib_metadata

from voxelio.registry import discovery


def _summary(eps):
    return sorted((ep.name, ep.value, ep.dist.name, ep.dist.version) for ep in eps)


def test_scan_matches_importlib_metadata():
    group = discovery.ENTRY_POINT_GROUP
    scanned = discovery._scan_entry_points(group)
    assert scanned is not None
    assert _summary(scanned) == _summary(importlib_metadata.entry_points(group=group))


def test_scan_of_other_groups_matches_too():
    group = "console_scripts"
    scanned = discovery._scan_entry_points(group)
    assert _summary(scanned) == _summary(importlib_metadata.entry_points(group=group))


def test_parse_entry_points_text():
    text = "# c\n[voxelio.plugins]\nfoo = pkg.mod:attr [extra]\n\n[other]\nbar = x\n"
    eps = discovery._parse_entry_points(text, "voxelio.plugins", discovery._Dist("/nowhere"))
    assert [(ep.name, ep.value) for ep in eps] == [("foo", "pkg.mod:attr [extra]")]
    assert eps[0].dist.name is None

"""Test-only voxelio plugin that is broken on purpose (broken-sniff)."""

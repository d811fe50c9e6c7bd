"""Test-only voxelio plugin that is broken on purpose (invalid-spec)."""

"""Entry module whose import fails: it needs a module that does not exist."""

import voxelio_no_such_dependency  # noqa: F401  (the point of this plugin)

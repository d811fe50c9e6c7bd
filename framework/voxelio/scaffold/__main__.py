"""``python -m voxelio.scaffold NAME [DIRECTORY]``."""

import sys

from . import main

sys.exit(main())

"""``python -m harvester.cli``: the ``harvest`` command."""

import sys

from .app import main

sys.exit(main())

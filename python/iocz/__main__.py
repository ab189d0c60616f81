"""``python -m iocz``: same as the ``iocz`` command."""

import sys

from iocz.cli import main

sys.exit(main())

"""`python -m geoservice …`: the same command as `geoservice …`."""

import sys

from geoservice.cli import main

sys.exit(main())

"""python -m studio: open the desktop studio."""

import sys

from studio.app import main

sys.exit(main())

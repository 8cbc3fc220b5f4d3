"""`python -m posthog_doctor` is the same as the `posthog-doctor` command."""

import sys

from .cli import main

sys.exit(main())

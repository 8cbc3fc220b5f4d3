"""posthog-doctor at PostHog scale: see README.md. `python -m benchmarks.run --scale 1`."""

import os

# The environment as the benchmark found it: the doctor's processes get this one, not what this process's own
# imports (the test helpers import the doctor) may have added to os.environ.
ORIGINAL_ENVIRON = dict(os.environ)

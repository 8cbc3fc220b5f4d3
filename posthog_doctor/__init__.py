"""posthog-doctor: diagnose a self-hosted PostHog deployment and write a report support can act on.

Kept import-free so that `posthog-doctor --version` starts instantly; drivers load lazily.
"""

__version__ = "0.1.0"

"""Deployment-wide checks: facts about the whole PostHog deployment rather than one component."""

"""Checks of PostHog's Redis beyond reachability: memory pressure and what it does to PostHog's keys."""

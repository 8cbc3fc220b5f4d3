"""Are event definitions kept up to date? Events arriving while their definitions go stale reveal a missing writer.

Event definitions (`posthog_eventdefinition`, what the UI lists and autocompletes) are written beside ingestion,
not by it: by the plugin server until PostHog moved them out (PR #24843, September 2024), at most once per UTC day
per event (`PropertyDefinitionsManager.syncEventDefinitions` caches `yyyyMMdd`); since then by the Rust service
property-defs-rs, about once an hour per event (`DEFAULT_EVENTDEF_LAST_SEEN_FLOOR_SECS = 3600`), whose built-in
defaults (SKIP_WRITES=true, SKIP_READS=true, FILTER_MODE=opt_in with no team) write nothing. Property definitions
carry no last-seen time, so event definitions are the signal.
"""

"""PostHog knowledge shared by several checks: how to read its web app, its Postgres event table, where its
events live, and the documentation a finding links to. Nothing here is a check."""

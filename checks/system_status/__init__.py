"""The `system_status` check: what PostHog's System Status page says is wrong, from the live API or a saved
copy (which `posthog-doctor parse-status` reads offline). findings.py judges the page's rows; reading the
page is shared knowledge (`checks/common/status_page`)."""

SELECT app, count(*) AS applied, max(name) AS latest, max(applied) AS last_applied_at
-- Django's record of applied migrations; PostHog's own are the 'posthog' app (and 'ee').
FROM django_migrations
GROUP BY app
ORDER BY max(applied) DESC

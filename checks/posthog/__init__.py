"""The web app (Django): what it reports about the services it depends on (`/_preflight/`, `/_health`,
`/_readyz`)."""

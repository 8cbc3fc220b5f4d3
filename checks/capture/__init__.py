"""The capture path: the public address SDKs send events to, and the capture service behind it.

Checked without ingesting anything: capture endpoints are asked with a GET that carries no event (every
capture answers it with 400 "no data"), the CORS verdict comes from an OPTIONS preflight (headers only,
the one non-GET request the doctor sends), and a project token is validated through GET endpoints that
look the token up (remote config, early access features), never by sending an event.
"""

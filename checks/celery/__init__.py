"""Celery workers: their heartbeat and their queue, both kept in Redis."""

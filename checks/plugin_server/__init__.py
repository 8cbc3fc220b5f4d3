"""The plugin server (PostHog's Node ingestion service): its own health endpoints and its Redis heartbeat.

When it is down, events are accepted with HTTP 200 and then wait in Kafka, never reaching ClickHouse:
the "events return 200 but never show up" ticket.
"""

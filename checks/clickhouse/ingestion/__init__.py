"""Is ingestion alive? The newest event ClickHouse received, the last hour against the same hour on previous
days, and the Kafka-engine path (`kafka_events_json` -> `events_json_mv` -> events) that feeds it.

`_timestamp` is when Kafka received the event on its way into ClickHouse: if it stops advancing while
events arrived before, events are stuck in Kafka (ClickHouse not consuming) or never reach it (plugin
server down). The runbook's remedies are in the advice.
"""

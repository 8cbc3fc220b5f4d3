"""Kafka, the backbone of PostHog's ingestion: topics, consumer lag, events lost to retention, the 2025+ dead
letter topic, and ClickHouse's Kafka tables. Shared helpers (`_offsets`, `_lag`, `_digest`, `_engine`) hold
no PostHog knowledge beyond what `checks/common/kafka_catalogue.yaml` and the DLQ cause catalogue say."""

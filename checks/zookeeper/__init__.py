"""ZooKeeper (or ClickHouse Keeper): the coordination service PostHog's ClickHouse keeps its replication
and distributed-DDL state in.

When it is down or has lost its quorum, ClickHouse's replicated tables turn read-only, so ingestion stops
while every other component looks healthy. The hobby stack runs `zookeeper:3.7.0` (service `zookeeper`),
Helm the chart's `posthog-posthog-zookeeper`.
"""

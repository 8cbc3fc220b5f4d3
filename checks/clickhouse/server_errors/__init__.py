"""ClickHouse's own error counters (system.errors), kept to what matters for ingestion: Kafka, format and schema,
memory, ZooKeeper / Keeper, too many parts, read-only tables, a full disk, timeouts.

system.errors counts every error since the server started, with the time and message of the last one
(ClickHouse 21.x+; 20.11 counts only; older servers have no such table, and the check says so). An error
family whose last occurrence lies within the window is a finding; older ones are shown, not judged.
"""

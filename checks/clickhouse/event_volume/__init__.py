"""How many events the deployment stores, per month and per day, read from `system.parts` metadata only.

Months are the events table's partitions (PostHog partitions by `toYYYYMM(timestamp)`). Days are an
estimate: each part knows the time range of its rows, and its rows are spread evenly over that range, so
the figures are exact for small recent parts and an average for large merged ones. Also watched: active
parts per partition, against the server's "too many parts" limits.
"""

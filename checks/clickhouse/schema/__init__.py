"""Are PostHog's tables in place, and (on clusters) are the replicas writable and keeping up?

Missing tables usually mean a failed or half-applied migration, or a doctor pointed at the wrong database;
a read-only replica (lost ZooKeeper/Keeper session) refuses every insert, so ingestion stops on it.
"""

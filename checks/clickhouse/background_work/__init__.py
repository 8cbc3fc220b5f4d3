"""Unfinished background work in ClickHouse: mutations that do not finish (with why, where the server records it)
and merges that run for hours.

A mutation (ALTER ... UPDATE / DELETE: PostHog's person and team deletions, some migrations) that fails on a
part is retried forever and holds back every later mutation of its table; a merge that runs for hours keeps
parts from being merged and points to a starved host. system.mutations keeps the failure reason only on newer
servers (not 18.16); the check probes the columns and says what it could not read.
"""

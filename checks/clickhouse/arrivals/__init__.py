"""Two checks that share one bounded scan of `events` by arrival: event timestamps against their
arrival, and arrivals per kind of event (scan.py reads; each check judges)."""

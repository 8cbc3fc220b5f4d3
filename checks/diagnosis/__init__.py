"""What the diagnosis knows about PostHog: the stages an event goes through, and which finding explains which
(rules.yaml, reviewed like code: each rule says why it holds and where that is known from). Nothing here is a
check; the engine's diagnosis step reads the file after the checks ran."""

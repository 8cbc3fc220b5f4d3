"""Texts from ClickHouse (error messages, mutation commands) with the values they quote masked.

A parse error quotes the row it could not read and a mutation command quotes the ids it deletes: customer
data. The structure (function, column and table names, numbers, error names) is kept; quoted values become
'<value>', like the dead letter queue digest's normalised messages.
"""

from __future__ import annotations

import re

# "Cannot parse uuid <the value>: (while reading ...)": parse errors name the value unquoted.
_PARSED_VALUE = re.compile(r"(Cannot parse(?: input)?(?: [A-Za-z0-9]+)?:? )(.*?)(?=: \(|\s*$)", re.S)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_SPACES = re.compile(r"\s+")


def masked(text: object, limit: int = 300) -> str:
    """`text` on one line, quoted values masked, cut to `limit` characters."""
    text = _PARSED_VALUE.sub(r"\1<value>", str(text or ""))
    flat = _SPACES.sub(" ", _QUOTED.sub("'<value>'", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

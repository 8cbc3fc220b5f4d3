"""Interleaved rounds: every kind of measurement once per round, in a fresh random order each round, after one
warm-up round of every kind (the naive queries warmed like the doctor). A round that starts while the machine is
busier than `max_load` (1-minute load average) is counted as disturbed; more rounds are run until `repeat`
undisturbed ones exist (at most `repeat` extra), and medians use the undisturbed rounds when there are three."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .measure import median


@dataclass
class Sample:
    kind: str
    value: Any
    load: float
    disturbed: bool


@dataclass
class Rounds:
    samples: list[Sample] = field(default_factory=list)
    rounds: int = 0
    disturbed_rounds: int = 0
    loads: list[float] = field(default_factory=list)

    def of(self, kind: str) -> list[Any]:
        """The values of `kind`: the undisturbed ones when there are at least three, else all."""
        mine = [s for s in self.samples if s.kind == kind]
        calm = [s for s in mine if not s.disturbed]
        return [s.value for s in (calm if len(calm) >= 3 else mine)]

    def all_of(self, kind: str) -> list[Any]:
        return [s.value for s in self.samples if s.kind == kind]

    def median_of(self, kind: str, get: Callable[[Any], float]) -> float | None:
        return median(get(v) for v in self.of(kind))


def run_rounds(
    kinds: dict[str, Callable[[], Any]],
    repeat: int,
    max_load: float,
    before_each: Callable[[], None] = lambda: None,
    log=print,
) -> Rounds:
    result = Rounds()
    for measure in random.sample(list(kinds.values()), len(kinds)):  # warm-up: caches as on a second run
        before_each()
        measure()
    calm = 0
    while calm < repeat and result.rounds < 2 * repeat:
        load = os.getloadavg()[0]
        disturbed = load > max_load
        result.rounds += 1
        result.disturbed_rounds += int(disturbed)
        result.loads.append(load)
        for kind, measure in random.sample(list(kinds.items()), len(kinds)):
            before_each()
            result.samples.append(Sample(kind, measure(), os.getloadavg()[0], disturbed))
        calm += int(not disturbed)
        log(f"  round {result.rounds}: load {load:.2f}{' (disturbed)' if disturbed else ''}")
    return result

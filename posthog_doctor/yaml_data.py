"""YAML data files (the checks' catalogues, the diagnosis rules), parsed by libyaml when PyYAML was built with
it: about ten times faster than PyYAML's pure-Python parser (about 0.3 s of every run's start-up otherwise),
with the same safe constructors, so the same data comes out."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


def load_yaml(text: str) -> Any:
    """`yaml.safe_load(text)`, with libyaml's parser where available."""
    return yaml.load(text, Loader=SafeLoader)

"""AWS's documented sample events (samples/*.json, each naming the page it is taken from), made into the events a
deployed stack would receive by substituting resource names only: every other field stays as AWS documents it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent / "samples"
SAMPLE_ACCOUNTS = ("123456789012", "111122223333")


def sample(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((SAMPLES / f"{name}.json").read_text())["event"])


def deployed(event: dict[str, Any], names: dict[str, str], account: str, region: str) -> dict[str, Any]:
    """The event with the sample's resource names, account and region replaced wherever they occur (ARNs included)."""
    replacements = dict(names)
    replacements.update({sample_account: account for sample_account in SAMPLE_ACCOUNTS})
    replacements[event["region"]] = region

    def substitute(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: substitute(item) for key, item in value.items()}
        if isinstance(value, list):
            return [substitute(item) for item in value]
        if isinstance(value, str):
            for old, new in replacements.items():
                value = value.replace(old, new)
        return value

    return substitute(event)


def with_fields(event: dict[str, Any], fields: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    """The event with some fields (given by path) set to other values AWS documents for them: another status, a name."""
    changed = copy.deepcopy(event)
    for path, value in fields.items():
        parent = changed
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
    return changed

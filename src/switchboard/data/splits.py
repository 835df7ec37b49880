"""The shared deterministic split rule of ../shared/datasets/SPLIT_RULE.md."""

from __future__ import annotations

import hashlib


def bucket(key: object, buckets: int = 5, salt: str = "") -> int:
    """sha256 of `str(key)` modulo `buckets`; bucket 0 of 5 is the test fifth."""
    return int(hashlib.sha256((salt + str(key)).encode("utf-8")).hexdigest(), 16) % buckets

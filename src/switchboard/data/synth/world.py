"""Where the synthetic cases come from: mix of intents, channels, languages, brands, the daily
cycle, the crisis spike, and the care team.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_START = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = 60
LABEL_NOISE = 0.03
CASE_FORMATS: tuple[str, ...] = (".csv", ".jsonl", ".parquet")

# --------------------------------------------------------------------------------------------
# Who writes, where, when

# Chatter, complaints and questions dominate real brand mentions; crisis is rare but costly.
INTENT_WEIGHTS: dict[str, float] = {
    "chatter": 0.21,
    "complaint": 0.19,
    "question": 0.15,
    "order_issue": 0.09,
    "praise": 0.08,
    "account_billing": 0.07,
    "outage": 0.05,
    "spam": 0.05,
    "troll": 0.04,
    "product_idea": 0.03,
    "sales_lead": 0.03,
    "crisis": 0.01,
}
CHANNELS: dict[str, float] = {
    "twitter": 0.42,
    "facebook": 0.20,
    "instagram": 0.15,
    "review": 0.10,
    "forum": 0.13,
}
LANGUAGES: dict[str, float] = {"en": 0.92, "es": 0.03, "fr": 0.02, "de": 0.015, "pt": 0.015}
# UTC hour of day: quiet while both the Americas and Europe sleep, busy in their overlap.
HOUR_WEIGHTS = np.array(
    [5, 4, 3.5, 3, 2.5, 2.5, 3, 4, 5, 6, 6.5, 7, 7.5, 8, 8, 8, 8, 7.5, 7.5, 8, 8.5, 8, 7, 6]
)
# P(negative, neutral, positive) given the intent: consistent with it, but never certain.
SENTIMENT_P: dict[str, tuple[float, float, float]] = {
    "complaint": (0.85, 0.13, 0.02), "question": (0.15, 0.75, 0.10),
    "account_billing": (0.50, 0.48, 0.02), "outage": (0.80, 0.19, 0.01),
    "praise": (0.02, 0.08, 0.90), "product_idea": (0.05, 0.55, 0.40),
    "sales_lead": (0.01, 0.60, 0.39), "crisis": (0.97, 0.03, 0.00),
    "spam": (0.02, 0.68, 0.30), "troll": (0.90, 0.10, 0.00),
    "chatter": (0.15, 0.50, 0.35), "order_issue": (0.65, 0.34, 0.01),
}  # fmt: skip
# Mentions that land in the weekend crisis spike, by intent (everything else is unaffected).
SPIKE_SHARE: dict[str, float] = {"crisis": 0.40, "outage": 0.30, "complaint": 0.03}
SPIKE_HOURS = 36
# Share of troll / complaint mentions written by the handful of repeat ragers.
RAGE_SHARE: dict[str, float] = {"troll": 0.45, "complaint": 0.08}


@dataclass(frozen=True, slots=True)
class Brand:
    """A fictional brand: what people buy from it and what can go dangerously wrong."""

    name: str
    short: str
    handle: str
    ceo: str
    products: tuple[str, ...]
    services: tuple[str, ...]  # what can go down for everyone at once
    hazards: tuple[str, ...]


# Brands' names, products, services and hazards live with the other word tables (phrases.json).
BRANDS: tuple[Brand, ...] = tuple(
    Brand(*[tuple(f) if isinstance(f, list) else f for f in fields])
    for fields in json.loads(Path(__file__).with_name("phrases.json").read_text("utf-8"))["BRANDS"]
)
BRAND_WEIGHTS = np.array([0.45, 0.35, 0.20])
SPIKE_BRAND = 0  # the network brand: a weekend of fires and outages

# --------------------------------------------------------------------------------------------
# What they write. Slots in braces are filled per row; {order} and {account} mark a number.

# --------------------------------------------------------------------------------------------
# The care team: follow-the-sun shifts; units with different skills, tiers and speed.

CARE = ("complaint", "question", "order_issue", "account_billing")
COMMUNITY = ("praise", "product_idea", "question")
BILLING = ("account_billing", "order_issue")
TECH = ("outage", "complaint")
SALES = ("sales_lead", "product_idea")
COMMS = ("crisis", "complaint")

_ROSTER_TABLE: tuple[tuple, ...] = (
    # id, name, timezone, shift start, end, languages, skills, tiers, capacity, median s
    ("r01", "Ana Lima", "America/New_York", 9, 17, ("en", "pt"), CARE, (2, 3), 6, 300),
    ("r02", "Ben Carter", "America/New_York", 9, 17, ("en",), CARE, (2, 3), 5, 900),
    ("r03", "Chloe Park", "America/New_York", 9, 17, ("en",), COMMUNITY, (2,), 8, 180),
    ("r04", "Diego Ruiz", "America/New_York", 10, 18, ("en", "es"), BILLING, (3,), 5, 420),
    ("r05", "Erin Walsh", "America/New_York", 8, 16, ("en",), TECH, (3, 4), 4, 600),
    ("r06", "Femi Adeyemi", "America/New_York", 9, 17, ("en",), SALES, (4,), 3, 1200),
    ("r07", "Grace Liu", "America/New_York", 9, 17, ("en",), COMMS, (4, 5), 3, 240),
    ("r08", "Hugo Moreau", "America/New_York", 17, 1, ("en", "fr"), CARE, (2, 3), 6, 540),
    ("r09", "Isla Murray", "Europe/London", 8, 16, ("en",), CARE, (2, 3), 6, 360),
    ("r10", "Jonas Weber", "Europe/London", 9, 17, ("en", "de"), TECH, (3, 4), 4, 480),
    ("r11", "Katie O'Neill", "Europe/London", 8, 16, ("en",), COMMUNITY, (2,), 8, 150),
    ("r12", "Luca Bianchi", "Europe/London", 12, 20, ("en", "fr"), BILLING, (3,), 5, 700),
    ("r13", "Maya Shah", "Europe/London", 9, 17, ("en",), COMMS, (4, 5), 3, 200),
    ("r14", "Noah Fischer", "Europe/London", 9, 17, ("en", "de"), SALES, (4,), 3, 900),
    ("r15", "Olga Sanz", "Europe/Madrid", 9, 17, ("es", "en"), CARE, (2, 3), 6, 400),
    ("r16", "Pedro Alves", "America/Sao_Paulo", 9, 17, ("pt", "es", "en"), CARE, (2, 3), 5, 650),
    ("r17", "Quinn Reyes", "Asia/Manila", 8, 16, ("en",), CARE, (2, 3), 8, 240),
    ("r18", "Rosa Santos", "Asia/Manila", 16, 0, ("en",), BILLING, (3,), 6, 330),
    ("r19", "Sam Cruz", "Asia/Manila", 22, 6, ("en",), TECH, (3, 4), 5, 500),
    ("r20", "Tala Bautista", "Asia/Manila", 8, 16, ("en",), COMMUNITY, (2,), 10, 120),
)
# How the historical routing picked a responder: mostly a skilled one, sometimes anyone.
ROUTE_SKILLED = 0.72
ROUTE_TIER = 0.15
TIER_SPEED = {1: 1.0, 2: 1.3, 3: 1.0, 4: 1.2, 5: 0.35}  # crisis gets answered fastest
OFF_SHIFT_SLOWDOWN = 3.5
CSAT_SURVEYED = 0.45


@dataclass(slots=True)
class SyntheticData:
    """Cases in the schema of `datasets/schema.py` plus the roster that handled them."""

    cases: pd.DataFrame
    roster: list[dict]


def build_roster() -> list[dict]:
    """The fixed care team: JSON-shaped dicts keyed like `routing.types.Responder`'s fields."""
    keys = (
        "id", "name", "timezone", "shift_start_hour", "shift_end_hour", "languages", "skills",
        "tiers", "capacity", "median_response_s",
    )  # fmt: skip
    roster = []
    for row in _ROSTER_TABLE:
        entry = dict(zip(keys, row, strict=True))
        for key in ("languages", "skills", "tiers"):
            entry[key] = list(entry[key])
        entry["median_response_s"] = float(entry["median_response_s"])
        roster.append(entry)
    return roster


# --------------------------------------------------------------------------------------------
# Drawing the non-text columns (vectorised)

"""The closed vocabularies every layer shares: the case schema, the policy, the API's msgspec
Literals and the database all take their labels from here, so a label cannot drift between them.
"""

from __future__ import annotations

from typing import Literal

ReplyAction = Literal["public", "private", "none"]
Sentiment = Literal["negative", "neutral", "positive"]

REPLY_ACTIONS: tuple[ReplyAction, ...] = ("public", "private", "none")
SENTIMENTS: tuple[Sentiment, ...] = ("negative", "neutral", "positive")
TIERS: tuple[int, ...] = (1, 2, 3, 4, 5)
TIER_NAMES: dict[int, str] = {
    1: "monitor",
    2: "automated",
    3: "care_agent",
    4: "specialist",
    5: "crisis",
}
SPLITS: tuple[str, ...] = ("train", "val", "test")

# The intents the curated corpus and the synthetic generator label and the default policy
# knows (datasets/RUBRIC.md). Real datasets bring their own intent vocabularies (airline
# negative reasons, banking77), so a case's `intent` stays open.
CARE_INTENTS: tuple[str, ...] = (
    "complaint",
    "question",
    "account_billing",
    "outage",
    "praise",
    "product_idea",
    "sales_lead",
    "crisis",
    "spam",
    "troll",
    "chatter",
    "order_issue",
)

# Model heads that train directly on a label column of the same name.
CLASSIFIER_HEADS: tuple[str, ...] = ("intent", "sentiment", "actionable", "reply_action", "tier")

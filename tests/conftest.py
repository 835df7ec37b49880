"""Fixtures shared by every test folder: small labelled cases and isolated settings."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from switchboard.settings import Settings
from switchboard.training.fit import fit_bundle

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared" / "datasets"

_TEMPLATES = {
    "complaint": ["my {x} broke again, so annoyed", "worst {x} ever, still broken"],
    "praise": ["love the new {x}! thank you", "great {x}, best team"],
    "spam": ["cheap {x} at http://spam.example", "win a free {x} www.win.example now"],
    "order_issue": ["where is my order #A{n} for the {x}?", "order {n} with the {x} never came"],
}
_SENTIMENT = {
    "complaint": "negative",
    "praise": "positive",
    "spam": "neutral",
    "order_issue": "negative",
}
_REPLY = {"complaint": "public", "praise": "public", "spam": "none", "order_issue": "private"}
_TIER = {"complaint": 3, "praise": 2, "spam": 1, "order_issue": 3}


def make_cases(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Small, fully labelled cases whose labels follow from the text (learnable on purpose)."""
    rng = random.Random(seed)
    rows = []
    start = pd.Timestamp("2026-01-01", tz="UTC")
    for i in range(n):
        intent = rng.choice(list(_TEMPLATES))
        text = rng.choice(_TEMPLATES[intent]).format(
            x=rng.choice(["phone", "app", "seat", "bag", "card"]), n=rng.randint(100000, 999999)
        )
        handled = intent != "spam"
        responder = rng.choice(["ana", "bo", "cy"]) if handled else None
        rows.append(
            {
                "case_id": f"t-{i:05d}",
                "text": text,
                "created_at": start + pd.Timedelta(minutes=7 * i),
                "channel": rng.choice(["twitter", "facebook"]),
                "brand": "acme",
                "author_id": f"u{rng.randint(1, 50)}",
                "author_followers": rng.randint(0, 5000),
                "author_verified": rng.random() < 0.05,
                "intent": intent,
                "sentiment": _SENTIMENT[intent],
                "actionable": handled,
                "reply_action": _REPLY[intent],
                "tier": _TIER[intent],
                "responder_id": responder,
                "first_response_s": rng.uniform(30, 3000) if handled else None,
                "resolved": (rng.random() < (0.9 if responder == "ana" else 0.5))
                if handled
                else None,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def trained_bundle():
    """A small model trained once per session, for the tests that serve or score with one
    (the service tests, batch-score); registered as version v1."""
    bundle = fit_bundle(make_cases(400)).bundle
    bundle.metadata["version"] = "v1"
    return bundle


@pytest.fixture
def cases() -> pd.DataFrame:
    return make_cases()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated in a temporary data dir (SQLite, registry and MLflow store inside)."""
    return Settings(data_dir=tmp_path / "var")


def shared_dataset(name: str) -> Path:
    """Path of a dataset in ../shared/datasets, or skip the test saying what is missing."""
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"real dataset {path} not present (../shared/datasets is optional)")
    return path


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    if outcome.get_result().failed:
        item.failed = True  # type: ignore[attr-defined]

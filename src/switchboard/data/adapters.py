"""Adapters: real public datasets mapped onto the case schema.

Each takes the dataset directory (or its file) and returns a raw frame in schema column names;
validation runs afterwards as for any file, so bad rows still end up in the rejects file.
Splits follow ../shared/datasets/SPLIT_RULE.md or the dataset's own official split.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from switchboard.data.errors import DataError
from switchboard.data.splits import bucket


def _split(keys: pd.Series) -> pd.Series:
    return keys.map(lambda k: "test" if bucket(k) == 0 else "train")


def _file(path: Path, name: str) -> Path:
    target = path / name if path.is_dir() else path
    if not target.is_file():
        raise DataError(f"{target}: not found (expected the dataset's {name})")
    return target


def airline_sentiment(path: Path) -> pd.DataFrame:
    """Tweets.csv: sentiment, and the negative reason as intent (negatives only)."""
    d = pd.read_csv(_file(path, "Tweets.csv"), dtype={"tweet_id": "int64"})
    return pd.DataFrame(
        {
            "case_id": d["tweet_id"].astype(str),
            "text": d["text"],
            "created_at": d["tweet_created"],
            "channel": "twitter",
            "brand": d["airline"],
            "author_id": d["name"],
            "sentiment": d["airline_sentiment"],
            "intent": d["negativereason"],
            "split": _split(d["tweet_id"]),
        }
    )


def complaints(path: Path) -> pd.DataFrame:
    """complaints_train.csv: actionable = complaint (evaluated with k-fold CV, no split)."""
    d = pd.read_csv(_file(path, "complaints_train.csv"), dtype={"id": str})
    return pd.DataFrame(
        {
            "case_id": d["id"],
            "text": d["text"],
            "channel": "twitter",
            "brand": d["domain"],
            "actionable": d["label"].astype(int) == 1,
        }
    )


SIGNOFF_INITIALS = re.compile(r"(?:\^|\s-\s?|\s—\s?)([A-Z]{1,4})\s*$")
SIGNOFF_NAME = re.compile(r"(?:\^|\s-\s?|\s—\s?)([A-Z][a-z]{1,15})\s*$")


def signoff(text: str) -> str | None:
    """The agent sign-off at the end of a brand reply: `^JK`, `-AA`, `- Becky`, `—MR`."""
    text = text.strip()
    for pattern in (SIGNOFF_INITIALS, SIGNOFF_NAME):
        m = pattern.search(text)
        if m:
            return m.group(1)
    return None


def twcs(path: Path) -> pd.DataFrame:
    """Customer Support on Twitter threads -> one case per customer tweet that opens a request.

    A case is an inbound tweet whose parent is absent or a brand tweet; the first brand reply
    to it gives the brand, the responder (`<brand>:<sign-off>`) and `first_response_s`.
    """
    d = pd.read_csv(
        _file(path, "twcs_head5k.csv"), dtype={"author_id": str, "response_tweet_id": str}
    )
    d["created"] = pd.to_datetime(d["created_at"], format="%a %b %d %H:%M:%S %z %Y", utc=True)
    by_id = d.set_index("tweet_id")
    inbound = d["inbound"].astype(str).str.lower() == "true"
    parent_inbound = d["in_response_to_tweet_id"].map(
        lambda p: bool(
            pd.notna(p) and p in by_id.index and str(by_id.at[p, "inbound"]).lower() == "true"
        )
    )
    opens = d[inbound & ~parent_inbound]
    replies = d[~inbound & d["in_response_to_tweet_id"].notna()]
    first = replies.sort_values("created").groupby("in_response_to_tweet_id").head(1)
    first = first.set_index("in_response_to_tweet_id")
    rows = []
    for _, t in opens.iterrows():
        reply = first.loc[t["tweet_id"]] if t["tweet_id"] in first.index else None
        brand = reply["author_id"] if reply is not None else str(t["thread_brand"]).split("|")[0]
        sign = signoff(str(reply["text"])) if reply is not None else None
        rows.append(
            {
                "case_id": str(t["tweet_id"]),
                "text": t["text"],
                "created_at": t["created"].isoformat(),
                "channel": "twitter",
                "brand": brand,
                "author_id": t["author_id"],
                "responder_id": f"{brand}:{sign}" if sign else None,
                "first_response_s": (reply["created"] - t["created"]).total_seconds()
                if reply is not None
                else np.nan,
                "replied": reply is not None,
                "split": "test" if bucket(int(t["thread_root_id"])) == 0 else "train",
            }
        )
    return pd.DataFrame(rows)


def banking77(path: Path) -> pd.DataFrame:
    """BANKING77 official train/test."""
    root = path if path.is_dir() else path.parent
    parts = []
    for split in ("train", "test"):
        d = pd.read_csv(_file(root, f"{split}.csv"))
        parts.append(
            pd.DataFrame(
                {
                    "case_id": [f"{split}-{i + 1}" for i in range(len(d))],
                    "text": d["text"],
                    "intent": d["category"],
                    "split": split,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def clinc150(path: Path) -> pd.DataFrame:
    """CLINC150 "full": out-of-scope rows keep no intent, so no head ever learns them."""
    d = pd.read_csv(_file(path, "clinc150_full.csv"))
    oos = d["is_oos"].astype(str).str.lower() == "true"
    counter = d.groupby("split").cumcount() + 1
    return pd.DataFrame(
        {
            "case_id": d["split"] + "-" + counter.astype(str),
            "text": d["text"],
            "intent": d["intent"].where(~oos, None),
            "split": d["split"],
            "is_oos": oos,
        }
    )


ADAPTERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    "airline_sentiment": airline_sentiment,
    "complaints": complaints,
    "twcs": twcs,
    "banking77": banking77,
    "clinc150": clinc150,
}

"""The synthetic generator: deterministic, complete, and planting the structure routing needs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from switchboard.data.schema import CARE_INTENTS, COLUMN_NAMES, REPLY_ACTIONS, SENTIMENTS, TIERS
from switchboard.data.synth import SyntheticData, generate, main, write
from switchboard.data.synth.world import DEFAULT_START
from switchboard.routing.types import Responder

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "datasets" / "sample"
STRETCHED = re.compile(r"([a-z])\1\1\1", re.IGNORECASE)
ORDER_OR_ACCOUNT = re.compile(r"(?<![\w-])(?:#?[A-Z]\d{7}|ACC-\d{7}|\d{4}-\d{4}-\d{2})\b")


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return generate(2000, seed=11).cases


@pytest.fixture(scope="module")
def medium() -> SyntheticData:
    return generate(5000, seed=5)


def _responders(roster: list[dict]) -> list[Responder]:
    return [
        Responder(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})
        for d in roster
    ]


def test_same_seed_gives_identical_cases() -> None:
    """Check that the same (n, seed) reproduces the frame and roster exactly."""
    a, b = generate(800, seed=3), generate(800, seed=3)
    pd.testing.assert_frame_equal(a.cases, b.cases)
    assert a.roster == b.roster


def test_different_seed_gives_different_cases() -> None:
    """Check that another seed gives other texts and times."""
    a, b = generate(800, seed=3).cases, generate(800, seed=4).cases
    assert not a["text"].equals(b["text"])
    assert not a["created_at"].equals(b["created_at"])


def test_every_schema_column_is_present_with_valid_vocabularies(small: pd.DataFrame) -> None:
    """Check that the frame has every schema column, in order, with closed vocabularies kept."""
    assert tuple(small.columns) == COLUMN_NAMES
    assert set(small["intent"]) <= set(CARE_INTENTS)
    assert set(small["sentiment"]) <= set(SENTIMENTS)
    assert set(small["reply_action"]) <= set(REPLY_ACTIONS)
    assert set(small["tier"]) <= set(TIERS)
    assert set(small["language"]) == {"en", "es", "fr", "de", "pt"}
    assert set(small["channel"]) == {"twitter", "facebook", "instagram", "review", "forum"}
    assert small["brand"].nunique() == 3
    assert small["split"].isna().all()
    assert small["case_id"].is_unique and small["case_id"].iloc[0] == "syn-000001"
    assert small["text"].str.len().gt(0).all()
    assert (small["author_followers"] >= 0).all()


def test_cases_are_time_ordered_over_sixty_days_from_start(small: pd.DataFrame) -> None:
    """Check that created_at starts at `start`, spans ~60 days and follows case_id order."""
    created = small["created_at"]
    assert created.is_monotonic_increasing
    assert created.min() >= pd.Timestamp(DEFAULT_START)
    assert 55 <= (created.max() - created.min()).days < 60


def test_start_moves_the_dates() -> None:
    """Check that a given start date is where the history begins."""
    start = datetime(2025, 1, 6, tzinfo=UTC)
    created = generate(300, seed=1, start=start).cases["created_at"]
    assert created.min() >= pd.Timestamp(start)
    assert created.max() < pd.Timestamp(start) + pd.Timedelta(days=61)


def test_every_care_intent_appears_with_realistic_imbalance(small: pd.DataFrame) -> None:
    """Check that all 12 intents occur in 2,000 rows, chatter/complaint lead and crisis is rare."""
    share = small["intent"].value_counts(normalize=True)
    assert set(share.index) == set(CARE_INTENTS)
    assert set(share.index[:3]) <= {"chatter", "complaint", "question"}
    assert 0.003 < share["crisis"] < 0.03


def test_about_eight_percent_of_mentions_are_not_english(small: pd.DataFrame) -> None:
    """Check that es/fr/de/pt mentions make up roughly 8 % of the cases."""
    assert 0.05 < (small["language"] != "en").mean() < 0.11


def test_social_noise_is_present(small: pd.DataFrame) -> None:
    """Check that texts carry handles, hashtags, emoji, links, shouting and stretched words."""
    text = small["text"]
    assert text.str.contains(r"@\w+").mean() > 0.5
    assert text.str.contains(r"(?<!\w)#[A-Za-z]").mean() > 0.1
    assert text.str.contains("[\U0001f300-\U0001faff]").mean() > 0.1
    assert text.str.contains("https://").mean() > 0.03
    assert (text.str.upper() == text).sum() > 20
    assert text.map(lambda t: STRETCHED.search(t) is not None).sum() > 10


def test_spam_carries_links(small: pd.DataFrame) -> None:
    """Check that most spam mentions contain a URL."""
    spam = small.loc[small["intent"] == "spam", "text"]
    assert spam.str.contains("https://").mean() > 0.8


def test_order_and_account_numbers_are_answered_in_private(small: pd.DataFrame) -> None:
    """Check that actionable mentions quoting an order/account number are replied to privately."""
    numbered = small[small["text"].str.contains(ORDER_OR_ACCOUNT) & small["actionable"]]
    assert len(numbered) > 100
    assert (numbered["reply_action"] == "private").mean() > 0.95


def test_spam_and_troll_get_no_reply(small: pd.DataFrame) -> None:
    """Check that spam and trolls are (up to label noise) not actionable and not replied to."""
    abusive = small[small["intent"].isin(["spam", "troll"])]
    assert (abusive["reply_action"] == "none").mean() > 0.95
    assert (~abusive["actionable"]).mean() > 0.95


def test_crisis_goes_to_tier_5(small: pd.DataFrame) -> None:
    """Check that crisis mentions are (up to label noise) escalated to tier 5."""
    crisis = small[small["intent"] == "crisis"]
    assert (crisis["tier"] == 5).mean() > 0.9
    assert (small.loc[small["tier"] == 5, "intent"] == "crisis").mean() > 0.8


def test_no_reply_means_tier_1_and_no_outcome(small: pd.DataFrame) -> None:
    """Check that non-actionable cases sit at tier 1 with no responder, time, result or csat."""
    idle = small[~small["actionable"]]
    assert (idle["reply_action"] == "none").all() and (idle["tier"] == 1).all()
    assert idle[["responder_id", "first_response_s", "resolved", "csat"]].isna().all().all()
    busy = small[small["actionable"]]
    assert busy[["responder_id", "first_response_s", "resolved"]].notna().all().all()
    assert set(busy["csat"].dropna()) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_some_complaints_are_pure_venting(small: pd.DataFrame) -> None:
    """Check that a share of complaints is labelled not actionable (nothing to act on)."""
    complaints = small[small["intent"] == "complaint"]
    assert 0.1 < (~complaints["actionable"]).mean() < 0.5


def test_labels_carry_some_human_inconsistency(small: pd.DataFrame) -> None:
    """Check that a few chatter mentions got a reply anyway (label noise exists)."""
    chatter = small[small["intent"] == "chatter"]
    assert 0 < chatter["actionable"].sum() < 0.1 * len(chatter)


def test_influencers_and_repeat_ragers_exist(small: pd.DataFrame) -> None:
    """Check for influencers (100k-5M followers, some verified) and authors who only rage."""
    influencers = small[small["author_followers"] >= 100_000]
    assert len(influencers) > 0
    assert influencers["author_followers"].max() <= 5_000_000
    assert small["author_verified"].any()
    by_author = small.groupby("author_id").agg(
        posts=("intent", "size"),
        angry=("sentiment", lambda s: (s == "negative").mean()),
        hostile=("intent", lambda s: s.isin(["troll", "complaint"]).mean()),
    )
    # Label noise may soften a post or two, hence 90 % rather than all.
    ragers = by_author[(by_author["posts"] >= 8) & (by_author["angry"] >= 0.9)]
    assert len(ragers) >= 3
    assert (ragers["hostile"] >= 0.9).all()


def test_authors_are_reused_with_a_heavy_tail(small: pd.DataFrame) -> None:
    """Check that some authors post many times while most post once or twice."""
    counts = small["author_id"].value_counts()
    assert counts.iloc[0] >= 10
    assert counts.median() <= 2


def test_a_weekend_spike_of_crisis_and_outage(small: pd.DataFrame) -> None:
    """Check that one weekend day holds far more crisis/outage mentions than a usual day."""
    urgent = small[small["intent"].isin(["crisis", "outage"])]
    per_day = urgent.groupby(urgent["created_at"].dt.floor("D")).size()
    peak = per_day.idxmax()
    assert peak.day_of_week >= 5
    assert per_day.max() > 4 * per_day.median()


def test_roster_maps_onto_responder(medium: SyntheticData) -> None:
    """Check that the ~20 roster dicts build Responders spread over three continents."""
    responders = _responders(medium.roster)
    assert 18 <= len(responders) <= 22
    assert len({r.id for r in responders}) == len(responders)
    assert {"America/New_York", "Europe/London", "Asia/Manila"} <= {r.timezone for r in responders}
    assert all(
        set(r.skills) <= set(CARE_INTENTS) and set(r.tiers) <= set(TIERS) for r in responders
    )
    assert any(5 in r.tiers for r in responders)
    assert len({r.median_response_s for r in responders}) > 5


def test_responders_come_from_the_roster(medium: SyntheticData) -> None:
    """Check that every responder_id in the cases is a roster member."""
    ids = {d["id"] for d in medium.roster}
    assert set(medium.cases["responder_id"].dropna()) <= ids


def test_skill_matched_responders_resolve_more(medium: SyntheticData) -> None:
    """Check that cases handled by a responder skilled in the intent are resolved far more often."""
    skills = {d["id"]: set(d["skills"]) for d in medium.roster}
    handled = medium.cases[medium.cases["actionable"]]
    matched = np.array(
        [i in skills[r] for i, r in zip(handled["intent"], handled["responder_id"], strict=True)]
    )
    resolved = handled["resolved"].astype(bool).to_numpy()
    assert 0.5 < matched.mean() < 0.97  # mostly skilled, sometimes anyone
    assert resolved[matched].mean() - resolved[~matched].mean() > 0.2


def test_csat_follows_resolution(medium: SyntheticData) -> None:
    """Check that resolved cases score a clearly higher csat than unresolved ones."""
    rated = medium.cases.dropna(subset=["csat"])
    by = rated.groupby(rated["resolved"].astype(bool))["csat"].mean()
    assert by[True] - by[False] > 1.0


def test_shipped_sample_equals_the_generator(tmp_path: Path) -> None:
    """Check that datasets/sample is byte-for-byte `generate(6000, seed=7)` (it cannot drift)."""
    write(generate(6000, seed=7), tmp_path / "cases.csv", tmp_path / "roster.json")
    assert (SAMPLE / "cases.csv").read_bytes() == (tmp_path / "cases.csv").read_bytes()
    assert (SAMPLE / "roster.json").read_bytes() == (tmp_path / "roster.json").read_bytes()
    assert (SAMPLE / "cases.csv").stat().st_size < 1_500_000


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_write_round_trips_each_format(tmp_path: Path, suffix: str) -> None:
    """Check that each case format reads back with every column and row."""
    data = generate(200, seed=2)
    path = tmp_path / f"cases{suffix}"
    write(data, path, None)
    readers = {".csv": pd.read_csv, ".jsonl": lambda p: pd.read_json(p, lines=True)}
    back = readers.get(suffix, pd.read_parquet)(path)
    assert tuple(back.columns) == COLUMN_NAMES
    assert back["case_id"].tolist() == data.cases["case_id"].tolist()
    assert back["text"].tolist() == data.cases["text"].tolist()


def test_unknown_suffix_is_rejected_naming_the_path(tmp_path: Path) -> None:
    """Check that writing cases to an unsupported suffix fails and names the path."""
    with pytest.raises(ValueError, match=r"cases\.txt: unsupported suffix '\.txt'"):
        write(generate(10), tmp_path / "cases.txt", None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be a positive integer"),
        ({"n": -5}, "n must be a positive integer"),
        ({"n": 10, "seed": -1}, "seed must be a non-negative integer"),
        ({"n": 10, "start": datetime(2026, 1, 1)}, "start must be timezone-aware"),
    ],
)
def test_bad_arguments_are_rejected_by_name(kwargs: dict, message: str) -> None:
    """Check that a bad n, seed or naive start raises an error naming the argument."""
    with pytest.raises(ValueError, match=message):
        generate(**kwargs)


def test_main_writes_cases_and_roster_and_prints_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that the command line writes both files and reports per-intent counts."""
    out, roster = tmp_path / "x.csv", tmp_path / "r.json"
    assert main(["--n", "300", "--seed", "1", "--out", str(out), "--roster", str(roster)]) == 0
    assert len(pd.read_csv(out)) == 300
    assert len(json.loads(roster.read_text())) == len(generate(10).roster)
    printed = capsys.readouterr().out
    assert printed.startswith("300 cases")
    assert "complaint" in printed


def test_main_reports_bad_input_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that the command line turns bad input into a message and exit code 2."""
    assert main(["--n", "0", "--out", str(tmp_path / "x.csv")]) == 2
    assert "n must be a positive integer" in capsys.readouterr().err


def test_module_runs_with_python_dash_m(tmp_path: Path) -> None:
    """Check that `python -m switchboard.data.synth` works from the repo root."""
    out = tmp_path / "x.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "switchboard.data.synth",
            "--n",
            "50",
            "--seed",
            "1",
            "--out",
            str(out),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(out)) == 50


@pytest.mark.slow
def test_hundred_thousand_cases_generate_in_seconds() -> None:
    """Check that 100,000 cases generate in well under ten seconds."""
    t0 = time.perf_counter()
    cases = generate(100_000, seed=1).cases
    assert time.perf_counter() - t0 < 10
    assert len(cases) == 100_000 and cases["case_id"].is_unique

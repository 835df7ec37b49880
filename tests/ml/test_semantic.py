"""The static MiniLM feature block: verified loading, stable output, semantics worth having."""

from __future__ import annotations

import csv
import pickle
import re
import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from switchboard.ml import semantic
from switchboard.ml.semantic import (
    ASSET_DIR,
    EXPECTED_SHA256,
    SemanticAssetError,
    StaticEmbedder,
    load_static_model,
)
from tests.conftest import shared_dataset

TEXTS = [
    "I want my money back",
    "please refund me",
    "the weather is nice",
    "@united my flight UA123 was delayed 3 hours and nobody told us anything!!",
    "Où est mon colis? 😡",
]


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return StaticEmbedder().fit(TEXTS)


@pytest.fixture
def asset_copy(tmp_path: Path) -> Path:
    target = tmp_path / "minilm_static"
    shutil.copytree(ASSET_DIR, target)
    return target


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)  # rows are unit length


def test_same_text_gives_identical_vectors_alone_or_in_any_batch(embedder: StaticEmbedder) -> None:
    """Check that a text's vector is bit-identical across calls, batch mates and fresh loads."""
    texts = [f"{a} {b}" for a in TEXTS for b in TEXTS] + ["", "😡"] + TEXTS
    batch = embedder.transform(texts)
    again = embedder.transform(list(reversed(texts)))[::-1]
    alone = np.vstack([embedder.transform([t]) for t in texts])
    fresh = load_static_model().encode(texts)
    for other in (again, alone, fresh):
        assert np.array_equal(batch, other)


def test_rows_are_float32_unit_length_with_the_asset_dimension(embedder: StaticEmbedder) -> None:
    """Check that transform returns (n, dim) float32 rows of L2 norm 1."""
    out = embedder.transform(TEXTS)
    assert out.dtype == np.float32
    assert out.shape == (len(TEXTS), embedder.n_features_out_)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert len(embedder.get_feature_names_out()) == out.shape[1]


def test_empty_or_unknown_only_text_gives_a_zero_row(embedder: StaticEmbedder) -> None:
    """Check that empty, blank and emoji-only texts embed as zeros beside normal rows."""
    out = embedder.transform(["", "   ", "😡😡", "refund please"])
    assert not out[:3].any()
    assert np.isclose(np.linalg.norm(out[3]), 1.0, atol=1e-5)
    assert embedder.transform([]).shape == (0, embedder.n_features_out_)


def test_single_string_or_non_text_input_is_rejected(embedder: StaticEmbedder) -> None:
    """Check that a bare string or a non-str item raises instead of embedding nonsense."""
    with pytest.raises(TypeError, match="single string"):
        embedder.transform("refund please")
    with pytest.raises(TypeError, match="text 1"):
        embedder.transform(["ok", None])


@pytest.mark.parametrize("name", sorted(EXPECTED_SHA256))
def test_tampered_asset_is_refused_before_anything_is_parsed(
    asset_copy: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that one flipped byte in any asset file raises naming that file, before parsing."""
    path = asset_copy / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    def parser_reached(*_: object) -> None:
        raise AssertionError("a parser ran on an unverified file")

    monkeypatch.setattr(semantic, "_parse", parser_reached)
    with pytest.raises(SemanticAssetError, match=re.escape(name)):
        load_static_model(asset_copy)


def test_missing_asset_is_refused(asset_copy: Path) -> None:
    """Check that a missing asset file raises SemanticAssetError naming it."""
    (asset_copy / "tokenizer.json").unlink()
    with pytest.raises(SemanticAssetError, match=r"tokenizer\.json"):
        load_static_model(asset_copy)


def test_untampered_copy_loads_and_agrees_with_the_shipped_assets(asset_copy: Path) -> None:
    """Check that a byte-identical copy elsewhere verifies and gives the same vectors."""
    copy = StaticEmbedder(asset_dir=str(asset_copy)).fit()
    assert np.array_equal(copy.transform(TEXTS), StaticEmbedder().fit().transform(TEXTS))


def test_pickle_round_trip_gives_identical_output(embedder: StaticEmbedder, tmp_path: Path) -> None:
    """Check that a joblib round trip keeps the output bit-identical and leaves vectors out."""
    path = tmp_path / "embedder.joblib"
    joblib.dump(embedder, path)
    restored = joblib.load(path)
    assert np.array_equal(restored.transform(TEXTS), embedder.transform(TEXTS))
    assert path.stat().st_size < 10_000  # parameters and digests only; vectors ship as assets
    assert str(ASSET_DIR).encode() not in pickle.dumps(embedder)  # resolved at load, not pinned


def test_embedder_fitted_on_other_assets_is_refused(embedder: StaticEmbedder) -> None:
    """Check that an embedder whose fit-time digests differ from the installed assets raises."""
    stale = clone(embedder).fit()
    stale.asset_sha256_ = {**stale.asset_sha256_, "model.safetensors": "0" * 64}
    with pytest.raises(SemanticAssetError, match="retrain"):
        stale.transform(TEXTS)


def test_transform_before_fit_is_refused() -> None:
    """Check that an unfitted embedder raises sklearn's NotFittedError."""
    with pytest.raises(NotFittedError):
        StaticEmbedder().transform(TEXTS)


def test_paraphrases_are_closer_than_unrelated_texts(embedder: StaticEmbedder) -> None:
    """Check that paraphrases sharing no content word still beat unrelated text on cosine."""
    pairs = [
        ("I want my money back", "please refund me", "the weather is nice"),
        ("my bag never arrived", "lost luggage", "great customer service, thanks!"),
        ("the app keeps crashing", "your software is broken", "I love the new seats"),
        ("cancel my subscription", "I want to stop my plan", "what time does the store open"),
    ]
    for anchor, para, other in pairs:
        a, p, o = embedder.transform([anchor, para, other])
        assert _cos(a, p) > _cos(a, o) + 0.03, (anchor, _cos(a, p), _cos(a, o))


def test_shipped_assets_stay_small_and_carry_their_licence() -> None:
    """Check that the asset dir is at most 12 MB and ships LICENSE and NOTICE.md."""
    files = {p.name: p.stat().st_size for p in ASSET_DIR.iterdir()}
    assert {"LICENSE", "NOTICE.md", *EXPECTED_SHA256} <= set(files)
    assert sum(files.values()) <= 12_000_000
    assert "Apache License" in (ASSET_DIR / "LICENSE").read_text()


# Characters where Python's str.split and BERT's normaliser could disagree, and other oddities.
AWKWARD = [
    "",
    "  lead and trail  ",
    "tab\there\nnew\r\nline",
    "a\x0bb a\x0cb a\x1cb c\x1fd x\x85y a\x7fb \x00nul",
    "zero\u200bwidth soft\u00adhyphen join\u200dme rep\ufffdlace mongol\u180esep",
    "nb\u00a0sp ideo\u3000space \u2028line\u2029para",
    "我爱你 北京 Crème brûlée ÉCOLE e\u0301 \u0301a ΣΊΣΥΦΟΣ İstanbul ﬁ",
    "emoji 😡😡 👍🏽 👨‍👩‍👧 \ue000private \U000e0041tag",
    "[UNK] foo[UNK]bar [PAD]",
    "@United #fail http://t.co/xyz123 &amp; <3 UA123!!!",
    "x" * 250,
    "word " * 700,
]


def _tokenizer_ids(texts: list[str]) -> list[list[int]]:
    tokenizer = load_static_model().tokenizer
    cut = [t[: semantic.MAX_CHARS] for t in texts]
    return [e.ids for e in tokenizer.encode_batch_fast(cut, add_special_tokens=False)]


def _cached_ids(texts: list[str]) -> list[list[int]]:
    model = load_static_model()
    # Twice, small calls: the first fills the word cache, the second reads from it.
    first = [ids for t in texts for ids in model.token_ids([t])]
    second = [ids for i in range(0, len(texts), 3) for ids in model.token_ids(texts[i : i + 3])]
    assert first == second
    return second


def test_word_cache_gives_exactly_the_tokenizers_ids_on_awkward_text() -> None:
    """Check that cached word lookups equal tokenising whole texts, control chars included."""
    texts = AWKWARD + [f"{a} {b}" for a in AWKWARD[:10] for b in AWKWARD[:10]]
    assert _cached_ids(texts) == _tokenizer_ids(texts)


@pytest.mark.realdata
def test_word_cache_gives_exactly_the_tokenizers_ids_on_real_mentions() -> None:
    """Check the cached path against whole-text tokenising on every airline tweet."""
    path = shared_dataset("airline_sentiment") / "Tweets.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    assert _cached_ids(texts) == _tokenizer_ids(texts)


def test_output_matches_model2vec_reading_the_same_asset() -> None:
    """Check that our pooling equals model2vec's StaticModel.encode on the shipped asset."""
    model2vec = pytest.importorskip(
        "model2vec", reason="model2vec (the distill extra) not installed"
    )
    reference = model2vec.StaticModel.from_pretrained(
        ASSET_DIR, normalize=True, force_download=False
    )
    ours = load_static_model().encode(TEXTS)
    theirs = np.asarray(reference.encode(TEXTS), dtype=np.float32)
    # model2vec averages in float16; we sum in float32: equal up to float16 rounding.
    assert np.allclose(ours, theirs, atol=3e-3)

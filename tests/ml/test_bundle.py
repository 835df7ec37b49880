"""The bundle on disk: reload reproduces predictions; tampering is refused before unpickling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from switchboard.ml.bundle import BundleIntegrityError, load_bundle, save_bundle
from switchboard.ml.registry import CHAMPION, Registry, RegistryError
from switchboard.training.fit import TrainResult, fit_bundle


@pytest.fixture(scope="module")
def trained() -> TrainResult:
    from tests.conftest import make_cases

    return fit_bundle(make_cases(400))


def test_reloaded_bundle_predicts_exactly_as_in_memory(
    trained: TrainResult, tmp_path: Path
) -> None:
    """Check that a saved and reloaded bundle gives bit-identical probabilities."""
    from tests.conftest import make_cases

    frame = make_cases(50, seed=9)
    save_bundle(trained.bundle, tmp_path / "b")
    reloaded = load_bundle(tmp_path / "b")
    before, after = trained.bundle.predict(frame), reloaded.predict(frame)
    for a, b in zip(before, after, strict=True):
        assert a.keys() == b.keys()
        for head in a:
            assert a[head].label == b[head].label
            assert a[head].probabilities == b[head].probabilities
    Xa, Xb = trained.bundle.vectorise(frame), reloaded.vectorise(frame)
    cands = ["ana", "bo", "cy", "new-hire"]
    assert np.array_equal(
        trained.bundle.expertise_scores(Xa, cands), reloaded.expertise_scores(Xb, cands)
    )


def test_tampered_file_is_refused(trained: TrainResult, tmp_path: Path) -> None:
    """Check that one flipped byte in a head makes loading fail, naming the file."""
    save_bundle(trained.bundle, tmp_path / "b")
    target = tmp_path / "b" / "head-intent.joblib"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(BundleIntegrityError, match=r"head-intent\.joblib"):
        load_bundle(tmp_path / "b")


def test_rewritten_manifest_is_refused_by_registry_checksum(
    trained: TrainResult, tmp_path: Path
) -> None:
    """Check that swapping a file and re-hashing the manifest is caught by the registry record."""
    registry = Registry(tmp_path / "reg")
    entry = registry.register(trained.bundle, "v1")
    manifest = json.loads((entry.path / "MANIFEST.json").read_text())
    manifest["files"]["metadata.json"] = "0" * 64
    (entry.path / "MANIFEST.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleIntegrityError, match="registry"):
        registry.load("v1")


@pytest.mark.parametrize("mutation", ["missing_file", "extra_file", "no_manifest"])
def test_incomplete_bundle_is_refused(trained: TrainResult, tmp_path: Path, mutation: str) -> None:
    """Check that a missing, extra or unlisted file stops the load."""
    d = tmp_path / "b"
    save_bundle(trained.bundle, d)
    if mutation == "missing_file":
        (d / "features.joblib").unlink()
    elif mutation == "extra_file":
        (d / "evil.joblib").write_bytes(b"x")
    else:
        (d / "MANIFEST.json").unlink()
    with pytest.raises(BundleIntegrityError):
        load_bundle(d)


def test_registry_numbers_versions_and_moves_champion(trained: TrainResult, tmp_path: Path) -> None:
    """Check that versions count up and the champion alias follows set_alias."""
    registry = Registry(tmp_path / "reg")
    assert registry.next_version() == "v1"
    registry.register(trained.bundle, "v1")
    assert registry.next_version() == "v2"
    registry.register(trained.bundle, "v2")
    registry.set_alias(CHAMPION, "v2")
    assert registry.get(CHAMPION).version == "v2"
    with pytest.raises(RegistryError, match="v9"):
        registry.set_alias(CHAMPION, "v9")
    with pytest.raises(RegistryError, match="already exists"):
        registry.register(trained.bundle, "v1")


def test_bundle_metadata_records_versions_and_fingerprint(trained: TrainResult) -> None:
    """Check that the metadata carries what GET /v1/model and audits need."""
    meta = trained.bundle.metadata
    assert {"trained_at", "data_fingerprint", "libraries", "heads", "metrics", "config"} <= set(
        meta
    )
    assert "scikit-learn" in meta["libraries"]
    assert set(meta["heads"]) == {"intent", "sentiment", "actionable", "reply_action", "tier"}
    assert pd.notna(meta["metrics"]["intent"]["accuracy"])

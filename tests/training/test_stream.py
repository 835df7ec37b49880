"""The streaming trainer: vocabulary exactly as in memory, a bundle the service reads,
reproducible weights, automatic selection by row count, clear errors on bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from switchboard.cli import main
from switchboard.data.errors import DataError
from switchboard.ml.bundle import load_bundle, save_bundle
from switchboard.ml.features import CaseFeatures
from switchboard.ml.registry import Registry
from switchboard.routing.policy import load_policy
from switchboard.routing.router import Router
from switchboard.routing.types import Mention
from switchboard.settings import Settings
from switchboard.training.fit import TrainConfig, TrainResult
from switchboard.training.stream import StreamConfig, fit_stream, fit_vocabulary
from switchboard.training.stream_source import ChunkStats, ParquetSource, count_rows
from switchboard.training.stream_vocab import TermCounts
from tests.conftest import make_cases

FAST = StreamConfig(chunk_rows=100, epochs=2, alpha_grid=(1e-4, 1e-3), n_jobs=1)


def _parquet(tmp_path: Path, frame: pd.DataFrame, name: str = "cases.parquet") -> Path:
    path = tmp_path / name
    frame.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def cases_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _parquet(tmp_path_factory.mktemp("stream"), make_cases(400))


@pytest.fixture(scope="module")
def streamed(cases_file: Path) -> TrainResult:
    return fit_stream(ParquetSource([cases_file], chunk_rows=100), stream=FAST)


@pytest.mark.parametrize("max_features", [200_000, 40])
@pytest.mark.parametrize("chunk_rows", [10_000, 37])
def test_streamed_vocabulary_and_idf_equal_tfidfvectorizers(
    tmp_path: Path, max_features: int, chunk_rows: int
) -> None:
    """Check that vocabulary_ and idf_ are scikit-learn's exactly when the count table never
    overflows, in one chunk or many, with and without the max_features cut."""
    frame = make_cases(300).assign(split="train")
    source = ParquetSource([_parquet(tmp_path, frame)], chunk_rows=chunk_rows)
    config = TrainConfig(max_features=max_features)
    streamed, _, info = fit_vocabulary(source, config, cap=10**6, stats=ChunkStats())
    memory = CaseFeatures(max_features=max_features).fit(frame)
    assert info["word"]["overflows"] == info["char"]["overflows"] == 0
    for ours, theirs in ((streamed.word_, memory.word_), (streamed.char_, memory.char_)):
        assert ours.vocabulary_ == theirs.vocabulary_
        assert ours.idf_.dtype == theirs.idf_.dtype
        assert np.array_equal(ours.idf_, theirs.idf_)
    assert (streamed.transform(frame) != memory.transform(frame)).nnz == 0


def test_overflowing_count_table_keeps_the_most_frequent_terms() -> None:
    """Check that a table over its cap drops the rarest terms and records how rare."""
    counts = TermCounts(CaseFeatures()._vectorisers()[0], cap=4)
    counts.add(["a a a b b c", "a b d e"])
    assert set(counts.table) == {"a", "b"}
    assert counts.summary()["overflows"] == 1
    assert counts.summary()["max_dropped_count"] >= 1


def test_streamed_bundle_loads_verifies_and_routes(streamed: TrainResult, tmp_path: Path) -> None:
    """Check that the bundle saves, passes its checksum on load and scores via the Router."""
    sha = save_bundle(streamed.bundle, tmp_path / "bundle")
    bundle = load_bundle(tmp_path / "bundle", sha)
    assert set(bundle.heads) == {"intent", "sentiment", "actionable", "reply_action", "tier"}
    assert bundle.metadata["trainer"]["kind"] == "streaming"
    router = Router(bundle, load_policy(Settings().policy_file))
    recs = router.recommend([Mention(id="1", text="where is my order #A123456 for the phone?")])
    assert recs[0].intent == "order_issue"
    assert recs[0].decision is not None
    assert streamed.metrics["heads"]["intent"]["macro_f1"] > 0.9


def test_same_seed_and_chunks_give_identical_weights(
    cases_file: Path, streamed: TrainResult
) -> None:
    """Check that a second run over the same chunks with the same seed is bit-identical."""
    again = fit_stream(ParquetSource([cases_file], chunk_rows=100), stream=FAST).bundle
    for name, head in streamed.bundle.heads.items():
        assert np.array_equal(head.coef, again.heads[name].coef)
        assert np.array_equal(head.intercept, again.heads[name].intercept)
        assert head.temperature == again.heads[name].temperature
    assert streamed.bundle.metadata["data_fingerprint"] == again.metadata["data_fingerprint"]


def test_validation_rows_choose_alpha_and_test_rows_measure(streamed: TrainResult) -> None:
    """Check that every head reports its alpha grid on validation rows and test figures."""
    for name, sel in streamed.selection.items():
        assert set(sel["grid"]) == {"0.0001", "0.001"}
        assert sel["alpha"] in (1e-4, 1e-3) and sel["temperature"] > 0
        assert name in streamed.metrics["heads"]
    assert streamed.bundle.expertise is not None


def _train(settings: Settings, data: Path, out: Path, *extra: str) -> int:
    argv = ["train", "--data", str(data), "--out", str(out), "--no-benchmark", "--quiet"]
    argv += ["--featurisations", "tfidf", "--no-second-opinion", "--chunk-rows", "100"]
    return main([*argv, *extra], settings=settings)


def test_training_streams_automatically_above_the_row_threshold(
    cases_file: Path, tmp_path: Path
) -> None:
    """Check that Parquet input over SWITCHBOARD_STREAMING_ABOVE trains by streaming, and
    under it in memory."""
    assert count_rows([cases_file]) == 400
    above = Settings(data_dir=tmp_path / "var", streaming_above=399)
    assert _train(above, cases_file, tmp_path / "big") == 0
    meta = load_bundle(tmp_path / "big").metadata
    assert meta["trainer"]["kind"] == "streaming"
    below = Settings(data_dir=tmp_path / "var", streaming_above=400)
    assert _train(below, cases_file, tmp_path / "small") == 0
    assert "trainer" not in load_bundle(tmp_path / "small").metadata


def test_streaming_setting_is_read_from_the_environment() -> None:
    """Check that SWITCHBOARD_STREAMING_ABOVE sets the threshold."""
    assert Settings.from_env({"SWITCHBOARD_STREAMING_ABOVE": "5"}).streaming_above == 5
    assert Settings().streaming_above == 200_000


def test_streamed_training_registers_a_version(cases_file: Path, tmp_path: Path) -> None:
    """Check that --streaming registers and promotes like the in-memory trainer."""
    settings = Settings(data_dir=tmp_path / "var")
    argv = ["train", "--data", str(cases_file), "--streaming", "--no-benchmark", "--quiet"]
    assert main([*argv, "--no-mlflow", "--chunk-rows", "100"], settings=settings) == 0
    registry = Registry(settings.registry_path)
    assert registry.load("champion").metadata["trainer"]["kind"] == "streaming"


def test_streaming_a_csv_is_refused_with_the_way_to_convert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that --streaming on a CSV exits 2 naming the file and Parquet."""
    csv = tmp_path / "cases.csv"
    make_cases(50).to_csv(csv, index=False)
    settings = Settings(data_dir=tmp_path / "var")
    assert _train(settings, csv, tmp_path / "out", "--streaming") == 2
    err = capsys.readouterr().err
    assert "cases.csv" in err and "Parquet" in err and "to_parquet" in err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.parquet", "no such file"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "without .parquet files"),
        (lambda d: (d / "bad.parquet").write_text("not parquet") and d / "bad.parquet", "Parquet"),
    ],
)
def test_unreadable_streaming_input_is_a_clear_error(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    """Check that a missing file, an empty directory and a corrupt file each name the path."""
    path = make(tmp_path)
    with pytest.raises(DataError, match=message) as err:
        list(ParquetSource([path]).chunks())
    assert str(path) in str(err.value)


def test_streaming_refuses_cross_validation(cases_file: Path, tmp_path: Path) -> None:
    """Check that --cv with --streaming is a usage error (CV needs the rows in memory)."""
    settings = Settings(data_dir=tmp_path / "var")
    assert _train(settings, cases_file, tmp_path / "out", "--streaming", "--cv", "3") == 2


def test_rejected_rows_are_counted_and_skipped(tmp_path: Path) -> None:
    """Check that rows failing validation are left out of training and counted."""
    frame = make_cases(300)
    frame.loc[:9, "text"] = ""
    stats = ChunkStats()
    result = fit_stream(
        ParquetSource([_parquet(tmp_path, frame)], chunk_rows=100), stream=FAST, stats=stats
    )
    assert (stats.n_in, stats.n_rejected) == (300, 10)
    assert result.bundle.metadata["n_rows"] == 290


def test_streaming_with_every_row_rejected_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that Parquet whose rows all fail validation is "nothing to train" (exit 3)."""
    data = _parquet(tmp_path, make_cases(20).assign(text=""))
    settings = Settings(data_dir=tmp_path / "var")
    assert _train(settings, data, tmp_path / "out", "--streaming") == 3
    assert "no usable rows" in capsys.readouterr().err

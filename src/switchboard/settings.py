"""All settings of Switchboard, read from `SWITCHBOARD_*` environment variables.

One module for the training CLI and the service alike, so that both agree on where the data
dir, the registry and the database live. Nothing happens at import time: call `get_settings()`
(cached) or build `Settings(...)` explicitly, as tests do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

ENV_PREFIX = "SWITCHBOARD_"
PACKAGE_DIR = Path(__file__).resolve().parent
# What the project ships (sample cases and roster, the curated corpus, the rubric) stays in the
# repository's `datasets/`, beside `src/`: Switchboard runs from its checkout (editable install).
SHIPPED_DATA = PACKAGE_DIR.parents[1] / "datasets"


def _default_data_dir() -> Path:
    return Path.cwd() / "var"


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Typed settings; each field reads `SWITCHBOARD_<FIELD NAME IN CAPITALS>`.

    Defaults are the embedded set-up: everything under `./var`, SQLite, a local MLflow store.
    """

    data_dir: Path = field(default_factory=_default_data_dir)
    # Empty means "derive from data_dir"; see the properties below.
    mlflow_tracking_uri: str = ""
    database_url: str = ""
    registry_dir: str = ""
    registered_model_name: str = "switchboard"
    policy_path: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # `key:scope,scope;key2:scope` (see service/auth.py). Empty: `make run` makes a demo key.
    api_keys: str = ""
    max_batch: int = 1000
    # `switchboard train` switches to the streaming trainer (training/stream.py: two passes
    # over Parquet chunks, bounded memory) when the Parquet inputs hold more rows than this;
    # `--streaming` / `--in-memory` decide explicitly. ~14 KB a case in memory: 200k ~ 3 GB.
    streaming_above: int = 200_000
    # Concurrent POST /v1/score requests are scored together, at most this many per batch
    # (service/score_queue.py); 1 scores each request alone. A batch forms only from requests
    # that arrive while the previous one is scored, so a lone request never waits.
    score_queue_batch: int = 64
    max_text_chars: int = 10_000
    # Unreviewed predictions older than this are deleted (reviewed ones are labelled data and
    # stay); 0 keeps everything. Enforced at start-up and hourly by the prediction log writer.
    prediction_retention_days: int = 90
    # QA review sampling (service/sampling.py): the uniform random share, and the confidence
    # under which a prediction counts as low-margin.
    review_sample_rate: float = 0.02
    review_low_confidence: float = 0.65
    # The review page's sign-in (service/sessions.py): a session ends after this many minutes
    # without a request (every page view or verdict renews it); sign-out ends it at once.
    review_session_idle_minutes: int = 8 * 60
    # Mark the session cookie `Secure` (sent over HTTPS only). Off for the embedded set-up on
    # http://127.0.0.1; turn it on whenever the service is reached over HTTPS (e.g. behind a
    # TLS-terminating proxy), or a browser would also send the cookie over plain HTTP.
    secure_cookies: bool = False
    # The prediction journal (service/journal.py) is written before every score response, so a
    # prediction the client saw survives kill -9 of the service. With fsync it also survives a
    # power cut or kernel crash, at the cost of one disk flush per request.
    journal_fsync: bool = False
    # Shadow mode (service/shadow.py): at most this many mentions wait for the challenger;
    # past it new ones are not shadow-scored (counted as dropped), so scoring never waits.
    shadow_queue: int = 10_000
    # Crisis webhook (service/webhook.py): every newly scored tier-5 mention is POSTed to this
    # URL as a signed `crisis_escalation` event. Empty (the default) turns it off.
    crisis_webhook_url: str = ""
    # HMAC-SHA256 key of the `X-Switchboard-Signature` header; required when the URL is set
    # (the service refuses to start without it). Share it with the receiver only.
    crisis_webhook_secret: str = ""
    # Attempts per event before it is marked failed (listed by GET /v1/webhooks/deliveries).
    crisis_webhook_attempts: int = 5
    # Wait before the 2nd attempt, doubling after each failure: 10, 20, 40, 80 s by default, so
    # a receiver down for up to ~2.5 minutes still gets the event.
    crisis_webhook_backoff_s: float = 10.0
    # Connect + read timeout of one attempt; the worker thread never waits longer per try.
    crisis_webhook_timeout_s: float = 5.0
    # Events waiting to be recorded by the worker; past it new ones are dropped and logged.
    crisis_webhook_queue: int = 1000
    # Start-up migrates the database (under a lock: replicas starting together take turns).
    # False: start-up only checks that the database is at the code's revision and refuses to
    # start otherwise, for deployments that run `switchboard migrate` as their own step.
    migrate_on_start: bool = True
    # Author history shared by every process on the database, so that replicas (or
    # `serve --workers N`) decide like one process: each score request reads its authors'
    # counters from the database (no cache) and adds the new mentions to them before it answers:
    # ~0.8 ms more per request on PostgreSQL over 127.0.0.1, ~0.12 ms on SQLite (median, on a
    # busy 2-core machine; the cache it replaces costs ~1 µs). Off: one process keeps its own
    # authors current in memory and sees other processes' mentions up to ~1 s late. `switchboard
    # serve --workers N` (N > 1) turns it on for its workers; replicas on one database must set it.
    shared_author_history: bool = False
    log_level: str = "INFO"
    # Log lines on stderr (service/logs.py): `json`, one JSON object per line for a log
    # shipper, or `text` for a human at a terminal. The app's, uvicorn's and Alembic's alike.
    log_format: str = "json"
    # Empty: /metrics counts this process only, in memory. A directory: prometheus_client's
    # multiprocess mode, so that with `switchboard serve --workers N` /metrics adds up every
    # worker; `switchboard serve` empties it at start (service/metrics.py).
    metrics_dir: str = ""
    # Threads numpy's BLAS may use in the service (the second opinion's transformer is matrix
    # products). The event loop, the log writer and the other workers already keep the cores
    # busy: more BLAS threads only fight them for it. On a loaded 2-core machine, 1 thread made
    # the transformer 4-6x faster per mention than the default of one per core (#14). 0 leaves
    # the library's default.
    blas_threads: int = 1

    @property
    def registry_path(self) -> Path:
        return Path(self.registry_dir) if self.registry_dir else self.data_dir / "registry"

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or _sqlite_url(self.data_dir / "mlflow.db")

    @property
    def artifact_root(self) -> Path:
        return self.data_dir / "mlartifacts"

    @property
    def db_url(self) -> str:
        return self.database_url or _sqlite_url(self.data_dir / "switchboard.db")

    @property
    def journal_dir(self) -> Path:
        return self.data_dir / "journal"

    @property
    def policy_file(self) -> Path:
        if self.policy_path:
            return Path(self.policy_path)
        return PACKAGE_DIR / "routing" / "policy.toml"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from the environment; unknown or malformed values fail loudly."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            if f.name == "data_dir":
                values[f.name] = Path(raw)
            elif f.type in ("bool", bool):
                values[f.name] = _flag(ENV_PREFIX + f.name.upper(), raw)
            elif f.type in ("int", int, "float", float):
                kind = int if f.type in ("int", int) else float
                try:
                    values[f.name] = kind(raw)
                except ValueError as exc:
                    msg = f"{ENV_PREFIX}{f.name.upper()} must be a {kind.__name__}, got {raw!r}"
                    raise ValueError(msg) from exc
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]


def _flag(name: str, raw: str) -> bool:
    """`true/1/yes/on` or `false/0/no/off`: anything else fails, so a typo cannot turn a
    security setting off."""
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off", ""):
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()

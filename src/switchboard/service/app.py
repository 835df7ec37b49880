"""The Litestar application: `create_app(settings)`; nothing happens at import time.

The verified champion bundle and the policy are loaded in the lifespan and kept on `app.state`;
handlers receive them by dependency injection. Run with
`uvicorn --factory switchboard.service.app:create_app` or `python -m service serve`.
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from litestar import Controller, Litestar, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import JSONBody
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from switchboard.ml.bundle import Bundle, BundleIntegrityError
from switchboard.ml.registry import CHAMPION, Registry, RegistryError
from switchboard.routing.policy import Policy, load_policy
from switchboard.routing.types import AuthorHistory, Context
from switchboard.service import review, store
from switchboard.service.auth import parse_keys, require
from switchboard.service.caches import AUTHOR_TTL_S, ROSTER_TTL_S, VOLUME_TTL_S, TTLCache
from switchboard.service.db import make_engine, migrate
from switchboard.service.errors import Conflict, InvalidInput, NotReady, SwitchboardError
from switchboard.service.metrics import Metrics
from switchboard.service.prediction_log import PredictionLog
from switchboard.service.routes.review import TEMPLATES, ReviewController, ReviewPage
from switchboard.service.routes.roster import MentionController, ResponderController
from switchboard.service.schemas import BatchIn, BatchOut, ErrorOut, MentionIn, ModelOut, ScoreOut
from switchboard.service.scoring import check_text, prediction_row, score_batch
from switchboard.settings import Settings, get_settings

V = TypeVar("V")
_PATH = re.compile(r"`(\$[^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")


def provide_bundle(state: State) -> Bundle:
    if state.bundle is None:
        raise NotReady(f"no verified model is loaded: {state.load_error}")
    return state.bundle


def provide_policy(state: State) -> Policy:
    return state.policy


def provide_settings(state: State) -> Settings:
    return state.settings


def _score_and_log(
    state: State, bundle: Bundle, policy: Policy, mentions: list[MentionIn]
) -> list[ScoreOut]:
    """Score with author history and brand volume, then log every prediction.

    History, volume and roster come through the caches of service/hot.py; the log is written
    by the background writer of service/prediction_log.py.
    """
    started = time.perf_counter()
    now = datetime.now(UTC)
    engine = state.engine
    authors = [m.author.id if m.author else None for m in mentions]
    history = state.authors.get_many(
        {a for a in authors if a},
        lambda ids: _with_default(store.author_history(engine, ids, now), ids, AuthorHistory()),
    )
    volume = state.volumes.get_many(
        {m.brand for m in mentions if m.brand},
        lambda brands: _with_default(store.volume_ratio(engine, brands, now), brands, 1.0),
    )
    contexts = [
        Context(
            now=now,
            author=history.get(a, AuthorHistory()) if a else AuthorHistory(),
            volume_ratio=volume.get(m.brand, 1.0) if m.brand else 1.0,
        )
        for m, a in zip(mentions, authors, strict=True)
    ]
    roster = state.roster.get("roster", lambda: store.list_responders(engine))
    results = score_batch(bundle, policy, mentions, roster, now, contexts)
    latency_ms = (time.perf_counter() - started) * 1000 / len(mentions)
    rows = [
        prediction_row(m, r, now, latency_ms, state.settings)
        for m, r in zip(mentions, results, strict=True)
    ]
    for row in rows:
        if row["author_id"]:
            state.authors.update(row["author_id"], lambda h, row=row: store.history_after(h, row))
    state.log.append(rows)
    state.metrics.observe(results, latency_ms / 1000)
    return results


def _with_default(found: dict[str, V], keys: list[str], default: V) -> dict[str, V]:
    return {k: found.get(k, default) for k in keys}


class ScoreController(Controller):
    path = "/v1/score"
    tags = ("scoring",)
    guards = [require("score")]  # noqa: RUF012 - Litestar reads a list

    # Scoring one mention is ~0.5 ms of CPU: running it on the event loop is cheaper than a
    # hop to the thread pool and back (bench/serving.py). Batches can take far longer, so
    # they go to a thread and never stall the loop.
    @post("/", operation_id="score", sync_to_thread=False, status_code=200)
    def score(
        self,
        data: JSONBody[MentionIn],
        state: State,
        bundle: NamedDependency[Bundle],
        policy: NamedDependency[Policy],
        settings: NamedDependency[Settings],
    ) -> ScoreOut:
        """Recommend reply, tier, priority, SLA and responders for one mention."""
        check_text(data, "$.text", settings.max_text_chars)
        return _score_and_log(state, bundle, policy, [data])[0]

    @post("/batch", operation_id="score_batch", sync_to_thread=True, status_code=200)
    def batch(
        self,
        data: JSONBody[BatchIn],
        state: State,
        bundle: NamedDependency[Bundle],
        policy: NamedDependency[Policy],
        settings: NamedDependency[Settings],
    ) -> BatchOut:
        """Score up to `max_batch` mentions; results come back in request order."""
        if not data.mentions:
            raise InvalidInput("mentions is empty", "$.mentions")
        if len(data.mentions) > settings.max_batch:
            raise InvalidInput(
                f"{len(data.mentions):,} mentions; the limit is {settings.max_batch:,}",
                "$.mentions",
            )
        for i, m in enumerate(data.mentions):
            check_text(m, f"$.mentions[{i}].text", settings.max_text_chars)
        return BatchOut(results=_score_and_log(state, bundle, policy, data.mentions))


def _model_out(bundle: Bundle, policy: Policy) -> ModelOut:
    meta = bundle.metadata
    return ModelOut(
        version=bundle.version,
        trained_at=meta.get("trained_at"),
        data_fingerprint=meta.get("data_fingerprint"),
        metrics=meta.get("metrics", {}),
        policy_version=policy.version,
    )


class ModelController(Controller):
    path = "/v1/model"
    tags = ("model",)

    @get("/", operation_id="get_model", sync_to_thread=False, guards=[require("score")])
    def model(self, bundle: NamedDependency[Bundle], policy: NamedDependency[Policy]) -> ModelOut:
        """Which model and policy are serving, and how the model scored when trained."""
        return _model_out(bundle, policy)

    @post(
        "/reload",
        operation_id="reload_model",
        sync_to_thread=True,
        guards=[require("admin")],
        status_code=200,
    )
    def reload(self, state: State, settings: NamedDependency[Settings]) -> ModelOut:
        """Load the current champion; a bundle that fails verification is refused and the
        serving one stays. The swap is one reference assignment, so no request is dropped."""
        bundle, error = _load(settings)
        if bundle is None:
            raise Conflict(
                "model_refused",
                f"champion not loaded, still serving "
                f"{state.bundle.version if state.bundle else 'nothing'}: {error}",
            )
        state.bundle, state.load_error = bundle, ""
        state.metrics.model_version(bundle.version)
        return _model_out(bundle, state.policy)


@get("/health", operation_id="health", tags=["ops"], sync_to_thread=False)
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@get(
    "/metrics",
    operation_id="metrics",
    tags=["ops"],
    sync_to_thread=False,
    media_type="text/plain; version=0.0.4",
)
def metrics(state: State) -> bytes:
    """Prometheus text format."""
    return state.metrics.render()


@get("/ready", operation_id="ready", tags=["ops"], sync_to_thread=False)
def ready(state: State) -> Response[dict[str, Any]]:
    """Readiness: 200 only with a verified model loaded."""
    if state.bundle is None:
        return Response({"status": "not_ready", "reason": state.load_error}, status_code=503)
    return Response({"status": "ready", "model_version": state.bundle.version})


def _error(status: int, code: str, detail: str, field: str | None) -> Response[ErrorOut]:
    return Response(ErrorOut(error=code, detail=detail, field=field), status_code=status)


def handle_switchboard_error(_: Request, exc: SwitchboardError) -> Response[ErrorOut]:
    return _error(exc.status_code, exc.code, exc.detail, exc.field)


def _field(error: dict[str, Any]) -> str | None:
    """The JSON path of the offending field, from msgspec's key or message."""
    message = str(error.get("message", ""))
    for pattern in (_PATH, _MISSING, _UNKNOWN):
        if m := pattern.search(message):
            name = m.group(1)
            return name if name.startswith("$") else f"$.{name}"
    key = error.get("key")
    return f"$.{key}" if key and key != "data" else None


def handle_validation(_: Request, exc: ValidationException) -> Response[ErrorOut]:
    """Wrong types, missing or unknown fields: 400 naming the field."""
    errors = [e for e in (exc.extra or []) if isinstance(e, dict)]
    detail = "; ".join(str(e.get("message", "")) for e in errors) or str(exc.detail)
    field = next((f for f in map(_field, errors) if f), None)
    return _error(400, "invalid_input", detail, field)


def handle_unexpected(request: Request, exc: Exception) -> Response[ErrorOut]:
    """Bugs still answer in the documented shape; the traceback goes to the log."""
    request.logger.exception("unhandled error on %s", request.url.path)
    return _error(500, "internal_error", "internal error; see the service log", None)


def handle_http(_: Request, exc: HTTPException) -> Response[ErrorOut]:
    # Litestar raises a plain 400 for bodies that are not valid JSON at all.
    codes = {400: "invalid_json", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    code = codes.get(exc.status_code, "http_error")
    return _error(exc.status_code, code, str(exc.detail), None)


def _load(settings: Settings) -> tuple[Bundle | None, str]:
    try:
        bundle = Registry(settings.registry_path).load(CHAMPION)
    except (RegistryError, BundleIntegrityError, OSError) as exc:
        return None, str(exc)
    bundle.warm()
    # The bundle is millions of long-lived objects (vocabularies, feature names). Freezing them
    # keeps the cyclic GC from walking them on every full collection, which otherwise showed
    # up as multi-ms pauses inside requests (bench/serving.py).
    gc.collect()
    gc.freeze()
    return bundle, ""


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; database, model and policy are set up when it starts, not here."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = make_engine(settings.db_url)
        migrate(engine)
        app.state.engine = engine

        def retention() -> int:
            return review.purge(engine, settings.prediction_retention_days, datetime.now(UTC))

        retention()
        app.state.log = PredictionLog(
            engine, settings.data_dir / "predictions-unwritten.jsonl", housekeeping=retention
        )
        app.state.bundle, app.state.load_error = _load(settings)
        if app.state.bundle is not None:
            app.state.metrics.model_version(app.state.bundle.version)
        try:
            yield
        finally:
            app.state.log.close()  # everything scored is written before the engine goes
            engine.dispose()

    return Litestar(
        route_handlers=[
            ScoreController,
            ModelController,
            ResponderController,
            MentionController,
            ReviewController,
            ReviewPage,
            health,
            ready,
            metrics,
        ],
        lifespan=[lifespan],
        state=State(
            {
                "settings": settings,
                "policy": load_policy(settings.policy_file),
                "env_keys": parse_keys(settings.api_keys),
                "metrics": Metrics(),
                "engine": None,
                "bundle": None,
                "log": None,
                "roster": TTLCache(ROSTER_TTL_S),
                "volumes": TTLCache(VOLUME_TTL_S),
                "authors": TTLCache(AUTHOR_TTL_S),
                "load_error": "starting",
            }
        ),
        dependencies={
            "bundle": Provide(provide_bundle, sync_to_thread=False),
            "policy": Provide(provide_policy, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        exception_handlers={
            SwitchboardError: handle_switchboard_error,
            ValidationException: handle_validation,
            HTTPException: handle_http,
            Exception: handle_unexpected,
        },
        request_max_body_size=2 * 1024 * 1024,
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
    )

"""The Litestar application: `create_app(settings)`; nothing happens at import time.

The verified champion bundle (behind a `Router`) and the policy are loaded in the lifespan and
kept on `app.state`; handlers receive them by dependency injection. Run with
`uvicorn --factory switchboard.service.app:create_app` or `switchboard serve`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from threadpoolctl import threadpool_limits

from switchboard.routing.policy import load_policy
from switchboard.routing.router import Router
from switchboard.service import activity, locks, maintenance, review, shadow, webhook
from switchboard.service.auth import parse_keys
from switchboard.service.caches import AUTHOR_TTL_S, ROSTER_TTL_S, VOLUME_TTL_S, TTLCache
from switchboard.service.db import make_engine, prepare_schema
from switchboard.service.errors import EXCEPTION_HANDLERS, NotReady
from switchboard.service.json_only import JsonBodiesOnly
from switchboard.service.logs import litestar_logging
from switchboard.service.metrics import Metrics
from switchboard.service.openapi import docs_assets, document_bodies, openapi_config
from switchboard.service.prediction_log import PredictionLog
from switchboard.service.request_context import RequestContext
from switchboard.service.routes.model import ModelController, load_challenger, load_router
from switchboard.service.routes.ops import health, metrics, ready
from switchboard.service.routes.review import TEMPLATES, ReviewController, review_page
from switchboard.service.routes.roster import MentionController, ResponderController
from switchboard.service.routes.scoring import ScoreController, score_each
from switchboard.service.routes.webhooks import WebhookController
from switchboard.service.score_queue import ScoreQueue
from switchboard.service.sessions import STORE_NAME, SqlStore
from switchboard.service.shadow import Shadow
from switchboard.service.webhook import CrisisWebhook
from switchboard.settings import Settings, get_settings

log = logging.getLogger("switchboard.retention")

# How often the retention purge runs, once across all replicas (service/maintenance.py).
RETENTION_EVERY = timedelta(hours=1)


def provide_router(state: State) -> Router:
    if state.router is None:
        raise NotReady(f"no verified model is loaded: {state.load_error}")
    return state.router


def provide_settings(state: State) -> Settings:
    return state.settings


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; database, model and policy are set up when it starts, not here."""
    settings = settings or get_settings()
    webhook.check_config(settings)  # a webhook URL without a secret: refuse to start
    app_metrics = Metrics(settings.metrics_dir)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if settings.blas_threads > 0:  # for the process: see Settings.blas_threads
            threadpool_limits(limits=settings.blas_threads, user_api="blas")
        engine = make_engine(settings.db_url)
        prepare_schema(engine, settings.migrate_on_start)
        app.state.engine = engine
        app.stores.register(STORE_NAME, SqlStore(engine), allow_override=True)

        def retention() -> None:
            """Delete what is past retention; one process at a time (another busy: skip)."""
            with locks.unless_busy(engine, locks.RETENTION_KEY, "retention") as mine:
                if not mine:
                    log.info("retention purge skipped: another process is running it")
                    return
                now = datetime.now(UTC)
                last = maintenance.claim_run(engine, "retention", RETENTION_EVERY, now)
                if last is not None:
                    log.info(
                        "retention purge skipped: another process ran it",
                        extra={"last_run_at": last.isoformat()},
                    )
                    return
                deleted = review.purge(engine, settings.prediction_retention_days, now)
                log.info("retention purge done", extra={"predictions_deleted": deleted})
                with engine.begin() as conn:
                    activity.purge(conn, now)
                    shadow.purge(conn, settings.prediction_retention_days, now)
                    webhook.purge(conn, settings.prediction_retention_days, now)

        retention()
        app.state.log = PredictionLog(
            engine,
            settings.journal_dir,
            fsync=settings.journal_fsync,
            housekeeping=retention,
            housekeeping_every_s=RETENTION_EVERY.total_seconds(),
            legacy_fallback=settings.data_dir / "predictions-unwritten.jsonl",
        )
        app.state.router, app.state.load_error = load_router(settings, app.state.policy)
        if app.state.router is not None:
            app.state.metrics.model_version(app.state.router.bundle.version)
        app.state.shadow = Shadow(engine, app.state.metrics, settings.shadow_queue)
        load_challenger(settings, app.state.policy, app.state.shadow)
        if settings.crisis_webhook_url:  # its thread records, then sends, tier-5 events
            app.state.webhook = CrisisWebhook(engine, settings, app.state.metrics)
        app.state.score_queue = ScoreQueue(
            partial(score_each, app.state), max(1, settings.score_queue_batch)
        )
        try:
            yield
        finally:
            if app.state.webhook is not None:  # queued events are recorded before it stops
                app.state.webhook.close()
            app.state.shadow.close()  # before the engine goes: the batch in hand is stored
            app.state.log.close()  # what is journalled is copied before the engine goes
            engine.dispose()
            app.state.metrics.close()

    app = Litestar(
        route_handlers=[
            ScoreController,
            ModelController,
            WebhookController,
            ResponderController,
            MentionController,
            ReviewController,
            review_page(settings),
            health,
            ready,
            metrics,
            docs_assets(),
        ],
        openapi_config=openapi_config(),
        lifespan=[lifespan],
        middleware=[JsonBodiesOnly()],  # 415 for non-JSON bodies on JSON paths
        state=State(
            {
                "settings": settings,
                "policy": load_policy(settings.policy_file),
                "env_keys": parse_keys(settings.api_keys),
                "metrics": app_metrics,
                "engine": None,
                "router": None,
                "log": None,
                "shadow": None,
                "webhook": None,
                "score_queue": None,
                "roster_cache": TTLCache(ROSTER_TTL_S),
                "brand_volume_cache": TTLCache(VOLUME_TTL_S),
                "author_history_cache": TTLCache(AUTHOR_TTL_S),
                "load_error": "starting",
            }
        ),
        dependencies={
            "router": Provide(provide_router, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=2 * 1024 * 1024,
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        # JSON (or text) lines for every logger of the process, applied here when the app is
        # built, so `uvicorn --factory` gets them as well as `switchboard serve`.
        logging_config=litestar_logging(settings.log_format, settings.log_level),
    )
    document_bodies(app, settings)
    # Outermost, so unrouted 404/405s get a request id and are counted too.
    app.asgi_handler = RequestContext(app.asgi_handler, app_metrics)
    return app

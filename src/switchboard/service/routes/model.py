"""`/v1/model`: which model serves, and reloading the champion without dropping a request."""

from __future__ import annotations

import gc

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency

from switchboard.ml.bundle import BundleIntegrityError
from switchboard.ml.registry import CHAMPION, Registry, RegistryError
from switchboard.routing.policy import Policy
from switchboard.routing.router import Router
from switchboard.service.auth import require
from switchboard.service.errors import Conflict
from switchboard.service.openapi import BEARER, errors
from switchboard.service.schemas import ModelOut
from switchboard.service.scoring import EXPLAIN_FEATURES
from switchboard.settings import Settings


def load_router(settings: Settings, policy: Policy) -> tuple[Router | None, str]:
    """The verified champion behind a Router, or None and why not."""
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
    return Router(bundle, policy, explain=EXPLAIN_FEATURES), ""


def _model_out(router: Router) -> ModelOut:
    bundle, meta = router.bundle, router.bundle.metadata
    return ModelOut(
        version=bundle.version,
        trained_at=meta.get("trained_at"),
        data_fingerprint=meta.get("data_fingerprint"),
        metrics=meta.get("metrics", {}),
        policy_version=router.policy.version,
    )


class ModelController(Controller):
    path = "/v1/model"
    tags = ("model",)
    security = BEARER

    @get(
        "/",
        operation_id="get_model",
        summary="Which model is serving",
        sync_to_thread=False,
        guards=[require("score")],
        responses=errors(401, 403, 503),
    )
    def model(self, router: NamedDependency[Router]) -> ModelOut:
        """Which model and policy are serving, and how the model scored when trained."""
        return _model_out(router)

    @post(
        "/reload",
        operation_id="reload_model",
        summary="Reload the champion model",
        sync_to_thread=True,
        guards=[require("admin")],
        status_code=200,
        responses=errors(401, 403, 409, 503),
    )
    def reload(self, state: State, settings: NamedDependency[Settings]) -> ModelOut:
        """Load the current champion; a bundle that fails verification is refused and the
        serving one stays. The swap is one reference assignment, so no request is dropped."""
        router, error = load_router(settings, state.policy)
        if router is None:
            raise Conflict(
                "model_refused",
                f"champion not loaded, still serving "
                f"{state.router.bundle.version if state.router else 'nothing'}: {error}",
            )
        state.router, state.load_error = router, ""
        state.metrics.model_version(router.bundle.version)
        return _model_out(router)

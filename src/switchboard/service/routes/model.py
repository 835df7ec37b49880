"""`/v1/model`: which model serves, reloading the champion without dropping a request, and
how the shadow challenger (service/shadow.py) agrees with it."""

from __future__ import annotations

import gc

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from switchboard.ml.bundle import BundleIntegrityError
from switchboard.ml.registry import CHALLENGER, CHAMPION, Registry, RegistryError
from switchboard.routing.policy import Policy
from switchboard.routing.router import Router
from switchboard.service.auth import require
from switchboard.service.errors import Conflict, NotReady
from switchboard.service.openapi import BEARER, errors
from switchboard.service.schemas import ErrorOut, ModelOut, ShadowOut
from switchboard.service.shadow import Shadow, report
from switchboard.settings import Settings


def load_router(
    settings: Settings, policy: Policy, alias: str = CHAMPION
) -> tuple[Router | None, str]:
    """The verified champion (or another alias) behind a Router, or None and why not.

    The Router explains nothing by default: a request that asks (`?explain=true`) gets its
    evidence and features through `Router.recommend(..., explain=N)`, the others do not pay."""
    try:
        bundle = Registry(settings.registry_path).load(alias)
    except (RegistryError, BundleIntegrityError, OSError) as exc:
        return None, str(exc)
    bundle.warm()
    # The bundle is millions of long-lived objects (vocabularies, feature names). Freezing them
    # keeps the cyclic GC from walking them on every full collection, which otherwise showed
    # up as multi-ms pauses inside requests (bench/serving.py).
    gc.collect()
    gc.freeze()
    return Router(bundle, policy), ""


def load_challenger(settings: Settings, policy: Policy, shadow: Shadow) -> None:
    """Give shadow mode the registry's `challenger`, verified like the champion. No alias is
    the normal case (nothing is shadowed); one that fails verification is kept as an error for
    `/v1/model/shadow` and `/ready`, and never stops the champion serving."""
    try:
        registry = Registry(settings.registry_path)
        version = registry.get(CHALLENGER).version if registry.has(CHALLENGER) else None
    except RegistryError as exc:
        shadow.set_challenger(None, None, str(exc))
        return
    if version is None:
        shadow.set_challenger(None, None)
        return
    # No explanations (the default): shadow rows keep labels and decisions, not features.
    router, error = load_router(settings, policy, CHALLENGER)
    shadow.set_challenger(router, router.bundle.version if router else version, error)


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
        if state.shadow is not None:
            load_challenger(settings, state.policy, state.shadow)
        return _model_out(router)

    @get(
        "/shadow",
        operation_id="get_shadow",
        summary="Agreement of the shadow challenger with the champion",
        sync_to_thread=True,
        guards=[require("score")],
        responses={
            **errors(401, 403, 503),
            404: ResponseSpec(
                data_container=ErrorOut,
                description="`no_challenger`: the registry has no `challenger` alias",
                generate_examples=False,
            ),
        },
    )
    def shadow(self, state: State, router: NamedDependency[Router]) -> ShadowOut:
        """How often the challenger, scored in shadow on live traffic and never returned, agrees
        with the serving champion: per head, per decision (reply action, tier, both), a reply
        confusion and recent disagreements; every replica's stored comparisons of this pair."""
        if state.shadow is None:
            raise NotReady("shadow mode is not running yet")
        return report(state.engine, router, state.shadow)

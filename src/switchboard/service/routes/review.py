"""QA review over HTTP: the JSON API (`/v1/review`) and the page (`/review`); two doors, one
code path (service/review.py) behind them.

The API takes a bearer key with the `review` scope. The page signs in once with such a key and
then holds a server-side session (service/sessions.py): the browser keeps only a session id
cookie for `/review`, the server keeps who signed in, never the key. The page's forms and its
fetch() calls carry the session's CSRF token; its verdicts go to `/review/api/...`, which is
session-authenticated and calls `review.record` as the API does. Either way the verdict's
reviewer is the signed-in identity (the key's owner name, else `key:<hash>`), never a field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar import Router as Mount
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, PathParameter, QueryParameter
from litestar.response import Redirect, Template

from switchboard.routing.router import Router
from switchboard.service import review, sessions, store
from switchboard.service.auth import Principal, authorise, check, key_active, require
from switchboard.service.charts import agreement_svg
from switchboard.service.errors import ClientError, Forbidden, InvalidInput, Unauthorized
from switchboard.service.openapi import (
    BEARER,
    DATE_QUERY,
    REASON_QUERY,
    REVIEW_EXAMPLES,
    STATUS_QUERY,
    TIER_QUERY,
    errors,
)
from switchboard.service.page_format import compact_count, time_tag
from switchboard.service.sampling import REASONS
from switchboard.service.schemas import (
    INT_MAX,
    QueueOut,
    ReviewIn,
    ReviewItem,
    ReviewOut,
    SummaryOut,
)
from switchboard.service.scoring import explained
from switchboard.service.sessions import session_config
from switchboard.settings import Settings

TEMPLATES = Path(__file__).parents[1] / "templates"
PAGE_SIZE = 50
FormBody = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def parse_when(value: str | None, field: str) -> datetime | None:
    """`YYYY-MM-DD` or ISO 8601; naive means UTC."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{field} must be a date like 2026-11-23, got {value!r}", field) from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def make_filter(
    status: str, tier: int | None, intent: str | None, reason: str | None, since: str | None,
    until: str | None,
) -> review.QueueFilter:  # fmt: skip
    if status not in review.STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(review.STATUSES)}", "status")
    if tier is not None and not 1 <= tier <= 5:
        raise InvalidInput("tier must be 1-5", "tier")
    if reason and reason not in REASONS:
        raise InvalidInput(f"reason must be one of {', '.join(REASONS)}", "reason")
    return review.QueueFilter(
        status, tier, intent or None, reason or None, parse_when(since, "since"),
        parse_when(until, "until"),
    )  # fmt: skip


def queue_filter(form: dict[str, str]) -> review.QueueFilter:
    """The database filter from the URL's filter values; a bad value is a 400 naming it."""
    tier = _int(form["tier"], "tier")
    return make_filter(
        form["status"], tier, form["intent"], form["reason"], form["since"], form["until"]
    )


def provide_queue_query(
    status: Annotated[str, STATUS_QUERY] = "open",
    tier: Annotated[str | None, TIER_QUERY] = None,
    intent: FromQuery[str | None] = None,
    reason: Annotated[str | None, REASON_QUERY] = None,
    since: Annotated[str | None, DATE_QUERY] = None,
    until: Annotated[str | None, DATE_QUERY] = None,
) -> dict[str, str]:
    """The queue filters as typed in the URL (dates as 2026-11-23), shared by the JSON API and
    the page, which shows them back in its form."""
    given = {"tier": tier, "intent": intent, "reason": reason, "since": since, "until": until}
    return {"status": status} | {k: v or "" for k, v in given.items()}


QUEUE_QUERY = {"queue_query": Provide(provide_queue_query, sync_to_thread=False)}
PredictionId = Annotated[int, PathParameter(ge=1, le=INT_MAX)]


def known_intents(router: Router) -> set[str]:
    head = router.bundle.heads.get("intent")
    defaults = router.policy.config["intent_defaults"]
    return set(head.classes if head else []) | set(defaults) - {"unknown"}


def record_verdict(
    state: State, router: Router, prediction_id: int, data: ReviewIn, reviewer: Principal
) -> ReviewOut:
    """What both doors do with a verdict: the reviewer is who signed in, whatever was sent."""
    now = datetime.now(UTC)
    intents = known_intents(router)
    return review.record(state.engine, prediction_id, data, reviewer.identity, intents, now)


class ReviewController(Controller):
    path = "/v1/review"
    tags = ("review",)
    guards = [require("review")]  # noqa: RUF012 - Litestar reads a list
    security = BEARER

    @get(
        "/queue",
        operation_id="review_queue",
        summary="The review queue",
        sync_to_thread=True,
        dependencies=QUEUE_QUERY,
        responses=errors(400, 401, 403, 503),
    )
    def queue(
        self,
        state: State,
        queue_query: NamedDependency[dict[str, str]],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = PAGE_SIZE,
        offset: Annotated[int, QueryParameter(ge=0, le=INT_MAX)] = 0,
    ) -> QueueOut:
        """Predictions worth a look (service/sampling.py), crisis first, newest first."""
        state.log.flush()
        items, total = review.queue(state.engine, queue_filter(queue_query), limit, offset)
        return QueueOut(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/summary",
        operation_id="review_summary",
        summary="Review accuracy and KPIs",
        sync_to_thread=True,
        responses=errors(400, 401, 403, 503),
    )
    def summary(self, state: State, since: Annotated[str | None, DATE_QUERY] = None) -> SummaryOut:
        """Accuracy per head (random sample: unbiased, with a 95 % interval), intent
        confusion, agreement per day, and the KPIs care leaders report."""
        state.log.flush()
        return review.summary(state.engine, parse_when(since, "since"))

    @get(
        "/{prediction_id:int}",
        operation_id="review_item",
        summary="One prediction with its reviews",
        sync_to_thread=True,
        responses=errors(400, 401, 403, 404, 503),
    )
    def item(self, state: State, prediction_id: PredictionId) -> ReviewItem:
        return review.get_item(state.engine, prediction_id)

    @post(
        "/{prediction_id:int}",
        operation_id="review_verdict",
        summary="Accept or correct a prediction",
        sync_to_thread=True,
        responses=errors(400, 401, 403, 404, 413, 415, 503),
    )
    def verdict(
        self,
        request: Request,
        state: State,
        prediction_id: PredictionId,
        data: Annotated[ReviewIn, Body(examples=REVIEW_EXAMPLES)],
        router: NamedDependency[Router],
    ) -> ReviewOut:
        """Accept or correct; stored as a new verdict with reviewer and time (201). The reviewer
        is the key's owner; a `reviewer` field in the body is ignored."""
        return record_verdict(state, router, prediction_id, data, check(request, "review"))


# --- the page ---------------------------------------------------------------------------------


def reviewer_in(request: Request) -> Principal | None:
    """The session's reviewer, or None (not signed in, expired, signed out, no review scope, or
    the key it signed in with has been revoked since)."""
    who = sessions.signed_in(request)
    if who is None or not who.may("review"):
        return None
    if who.key_id is not None and not key_active(request.app.state.engine, who.key_id):
        sessions.sign_out(request)  # the stored session goes too
        return None
    return who


def login_page(request: Request, error: str | None, status: int = 200) -> Template:
    context = {"error": error, "csrf": sessions.csrf_token(request), "reviewer": None}
    return Template("login.html", context=context, status_code=status)


def page_context(request: Request, reviewer: Principal) -> dict[str, Any]:
    """What every signed-in page shows: who is signed in and the token its forms send."""
    return {"reviewer": reviewer.identity, "csrf": sessions.csrf_token(request)}


class ReviewPage(Controller):
    """The page: HTML for people, plus one JSON endpoint for its keyboard actions. Mounted in
    `create_app` behind the review session middleware; the `/v1` API never sees the session."""

    path = "/review"
    include_in_schema = False

    @get("/login", sync_to_thread=False)
    def login_form(self, request: Request) -> Template:
        return login_page(request, None)

    @post("/login", sync_to_thread=True, status_code=303)
    def login(self, request: Request, data: FormBody) -> Template | Redirect:
        """Sign in with a key that has the `review` scope; the session keeps who it belongs to."""
        try:
            sessions.check_csrf(request, data.get(sessions.CSRF_FIELD))
        except Forbidden:
            return login_page(request, "The sign-in form expired; please sign in again.", 403)
        key = (data.get("key") or "").strip()
        if not key:
            return login_page(request, "Enter a key with the review scope.", 401)
        try:
            principal = authorise(key, "review", request.app.state)
        except ClientError as exc:
            return login_page(request, f"That key cannot review: {exc.detail}.", 401)
        sessions.sign_in(request, principal)
        return Redirect("/review", status_code=303)

    @post("/logout", sync_to_thread=False, status_code=303)
    def logout(self, request: Request, data: FormBody) -> Redirect:
        """Sign out: the server-side session is deleted, so its cookie is worthless from now on."""
        if sessions.signed_in(request) is not None:
            sessions.check_csrf(request, data.get(sessions.CSRF_FIELD))
            sessions.sign_out(request)
        return Redirect("/review/login", status_code=303)

    @post("/api/{prediction_id:int}", sync_to_thread=True)
    def verdict(
        self,
        request: Request,
        state: State,
        prediction_id: PredictionId,
        data: Annotated[ReviewIn, Body()],
        router: NamedDependency[Router],
    ) -> ReviewOut:
        """The page's door to `/v1/review/{id}`: the session instead of a key, plus its CSRF
        token in the `X-CSRF-Token` header."""
        reviewer = reviewer_in(request)
        if reviewer is None:
            raise Unauthorized("sign in at /review/login", "session")
        sessions.check_csrf(request, request.headers.get(sessions.CSRF_HEADER))
        return record_verdict(state, router, prediction_id, data, reviewer)

    @get("/", sync_to_thread=True, dependencies=QUEUE_QUERY)
    def page(
        self,
        request: Request,
        state: State,
        router: NamedDependency[Router],
        queue_query: NamedDependency[dict[str, str]],
        item: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        """The queue with filters, one item in full, and the correction form."""
        reviewer = reviewer_in(request)
        if reviewer is None:
            return Redirect("/review/login")
        state.log.flush()
        intents = sorted(known_intents(router))
        roster = store.list_responders(state.engine)
        context: dict[str, Any] = {
            "filters": queue_query,
            "reasons": REASONS,
            "statuses": review.STATUSES,
            "intents": intents,
            "responders": [(r.id, r.name or r.id) for r in roster],
            "names": {r.id: r.name or r.id for r in roster},
            "compact": compact_count,
            "when": time_tag,
            **page_context(request, reviewer),
            "error": None,
            "items": [],
            "total": 0,
            "current": None,
        }  # fmt: skip
        try:
            f = queue_filter(queue_query)
            if f.intent and f.intent not in intents:
                raise InvalidInput(f"intent {f.intent!r} is not one the model knows", "intent")
        except InvalidInput as exc:
            context["error"] = filter_error(exc, intents)
            return Template("review.html", context=context, status_code=400)
        items, total = review.queue(state.engine, f, PAGE_SIZE, 0)
        context["query"] = urlencode({k: v for k, v in context["filters"].items() if v})
        chosen = next((i for i in items if str(i.prediction_id) == item), None)
        current = chosen or (items[0] if items else None)
        # Answers scored without `?explain=true` are stored without evidence: the page computes
        # it for the one item it shows, from the loaded model (service/scoring.py `explained`).
        context.update(
            items=items, total=total, current=explained(router, current) if current else None
        )
        return Template("review.html", context=context)

    @get("/summary", sync_to_thread=True)
    def summary_page(self, request: Request, state: State) -> Template | Redirect:
        reviewer = reviewer_in(request)
        if reviewer is None:
            return Redirect("/review/login")
        state.log.flush()
        s = review.summary(state.engine)
        cols = sorted({c for row in s.intent_confusion.values() for c in row})
        context = {"s": s, "chart": agreement_svg(s.agreement), "confusion_cols": cols}
        context |= page_context(request, reviewer)
        return Template("summary.html", context=context)


def filter_error(exc: InvalidInput, intents: list[str]) -> dict[str, str]:
    """What the page says about a bad filter: which one, what was wrong, what it accepts."""
    dates = "a date like 2026-11-23 (or an ISO 8601 date-time); empty for no limit"
    allowed = {
        "status": ", ".join(review.STATUSES),
        "tier": "1, 2, 3, 4, 5; empty for any",
        "intent": ", ".join(intents) + "; empty for any",
        "reason": ", ".join(REASONS) + "; empty for any",
        "since": dates,
        "until": dates,
    }
    field = exc.field or "filter"
    hint = allowed.get(field, "")
    if hint.split(";")[0] in exc.detail:  # the detail already lists them: say it once
        hint = ""
    return {"field": field, "detail": exc.detail, "allowed": hint}


def _int(value: str | None, field: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidInput(f"{field} must be a whole number, got {value!r}", field) from exc


def review_page(settings: Settings) -> Mount:
    """The page behind its session middleware: only `/review` paths load or store sessions."""
    return Mount("/", route_handlers=[ReviewPage], middleware=[session_config(settings).middleware])

"""QA review over HTTP: the JSON API (`/v1/review`) and the page (`/review`) built on it.

Both need the `review` scope. The API takes the usual bearer key; the page logs in once with a
key and keeps it in an HttpOnly, SameSite=Strict cookie, so its keyboard actions call the same
JSON API. Reviewer name: the `reviewer` field, else the page's name cookie, else `key:<hash>`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect, Template

from switchboard.routing.router import Router
from switchboard.service import review, store
from switchboard.service.auth import KEY_COOKIE, authorise, check, hash_key, require
from switchboard.service.errors import ClientError, InvalidInput
from switchboard.service.sampling import REASONS
from switchboard.service.schemas import QueueOut, ReviewIn, ReviewItem, ReviewOut, SummaryOut

TEMPLATES = Path(__file__).parents[1] / "templates"
NAME_COOKIE = "sb_reviewer"
PAGE_SIZE = 50


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
    status: FromQuery[str] = "open",
    tier: FromQuery[str | None] = None,
    intent: FromQuery[str | None] = None,
    reason: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
) -> dict[str, str]:
    """The queue filters as typed in the URL (dates as 2026-11-23), shared by the JSON API and
    the page, which shows them back in its form."""
    given = {"tier": tier, "intent": intent, "reason": reason, "since": since, "until": until}
    return {"status": status} | {k: v or "" for k, v in given.items()}


QUEUE_QUERY = {"queue_query": Provide(provide_queue_query, sync_to_thread=False)}


def known_intents(router: Router) -> set[str]:
    head = router.bundle.heads.get("intent")
    defaults = router.policy.config["intent_defaults"]
    return set(head.classes if head else []) | set(defaults) - {"unknown"}


def reviewer_of(request: Request) -> str:
    return request.cookies.get(NAME_COOKIE) or "key:" + hash_key(check(request, "review"))[:8]


class ReviewController(Controller):
    path = "/v1/review"
    tags = ("review",)
    guards = [require("review")]  # noqa: RUF012 - Litestar reads a list

    @get("/queue", operation_id="review_queue", sync_to_thread=True, dependencies=QUEUE_QUERY)
    def queue(
        self,
        state: State,
        queue_query: NamedDependency[dict[str, str]],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = PAGE_SIZE,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> QueueOut:
        """Predictions worth a look (service/sampling.py), crisis first, newest first."""
        state.log.flush()
        items, total = review.queue(state.engine, queue_filter(queue_query), limit, offset)
        return QueueOut(items=items, total=total, limit=limit, offset=offset)

    @get("/summary", operation_id="review_summary", sync_to_thread=True)
    def summary(self, state: State, since: FromQuery[str | None] = None) -> SummaryOut:
        """Accuracy per head (random sample: unbiased, with a 95 % interval), intent
        confusion, agreement per day, and the KPIs care leaders report."""
        state.log.flush()
        return review.summary(state.engine, parse_when(since, "since"))

    @get("/{prediction_id:int}", operation_id="review_item", sync_to_thread=True)
    def item(self, state: State, prediction_id: FromPath[int]) -> ReviewItem:
        return review.get_item(state.engine, prediction_id)

    @post("/{prediction_id:int}", operation_id="review_verdict", sync_to_thread=True)
    def verdict(
        self,
        request: Request,
        state: State,
        prediction_id: FromPath[int],
        data: JSONBody[ReviewIn],
        router: NamedDependency[Router],
    ) -> ReviewOut:
        """Accept or correct; stored as a new verdict with reviewer and time (201)."""
        intents = known_intents(router)
        now = datetime.now(UTC)
        return review.record(state.engine, prediction_id, data, reviewer_of(request), intents, now)


# --- the page ---------------------------------------------------------------------------------


def _signed_in(request: Request) -> bool:
    try:
        check(request, "review")
    except ClientError:
        return False
    return True


class ReviewPage(Controller):
    path = "/review"
    include_in_schema = False

    @get("/login", sync_to_thread=False)
    def login_form(self) -> Template:
        return Template("login.html", context={"error": None, "name": ""})

    @post("/login", sync_to_thread=True, status_code=303)
    def login(
        self,
        request: Request,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        name, key = (data.get("name") or "").strip(), (data.get("key") or "").strip()
        error = None
        if not name:
            error = "Enter your name: every verdict is stored with it."
        elif len(name) > 100:
            error = "The name is longer than 100 characters."
        elif not key:
            error = "Enter a key with the review scope."
        else:
            try:
                authorise(key, "review", request.app.state)
            except ClientError as exc:
                error = f"That key cannot review: {exc.detail}."
        if error:
            return Template("login.html", context={"error": error, "name": name}, status_code=401)
        cookies = [
            Cookie(key=KEY_COOKIE, value=key, httponly=True, samesite="strict", path="/"),
            Cookie(key=NAME_COOKIE, value=name, httponly=True, samesite="strict", path="/"),
        ]
        return Redirect("/review", cookies=cookies, status_code=303)

    @get("/logout", sync_to_thread=False)
    def logout(self) -> Redirect:
        gone = [
            Cookie(key=k, value="", max_age=0, path="/", httponly=True, samesite="strict")
            for k in (KEY_COOKIE, NAME_COOKIE)
        ]
        return Redirect("/review/login", cookies=gone)

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
        if not _signed_in(request):
            return Redirect("/review/login")
        state.log.flush()
        context: dict[str, Any] = {
            "filters": queue_query,
            "reasons": REASONS,
            "statuses": review.STATUSES,
            "intents": sorted(known_intents(router)),
            "responders": [r.id for r in store.list_responders(state.engine)],
            "reviewer": request.cookies.get(NAME_COOKIE, ""),
            "error": None,
            "items": [],
            "total": 0,
            "current": None,
        }  # fmt: skip
        try:
            f = queue_filter(queue_query)
        except InvalidInput as exc:
            context["error"] = exc.detail
            return Template("review.html", context=context, status_code=400)
        items, total = review.queue(state.engine, f, PAGE_SIZE, 0)
        context["query"] = urlencode({k: v for k, v in context["filters"].items() if v})
        chosen = next((i for i in items if str(i.prediction_id) == item), None)
        context.update(items=items, total=total, current=chosen or (items[0] if items else None))
        return Template("review.html", context=context)

    @get("/summary", sync_to_thread=True)
    def summary_page(self, request: Request, state: State) -> Template | Redirect:
        if not _signed_in(request):
            return Redirect("/review/login")
        state.log.flush()
        s = review.summary(state.engine)
        cols = sorted({c for row in s.intent_confusion.values() for c in row})
        context = {"s": s, "chart": agreement_chart(s), "confusion_cols": cols}
        return Template("summary.html", context=context)


def _int(value: str | None, field: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidInput(f"{field} must be a whole number, got {value!r}", field) from exc


def agreement_chart(s: SummaryOut, width: int = 600, height: int = 160) -> list[dict[str, Any]]:
    """Bars for an inline SVG: one per day, height = agreement (no chart library needed)."""
    days = s.agreement[-30:]
    if not days:
        return []
    step = width / len(days)
    return [
        {
            "x": round(i * step + 2, 1),
            "w": round(max(step - 4, 1), 1),
            "h": round(d.agreement * (height - 20), 1),
            "y": round(height - 20 - d.agreement * (height - 20), 1),
            "label": f"{d.day}: {d.agreement:.0%} of {d.reviewed}",
            "day": d.day[5:],
        }
        for i, d in enumerate(days)
    ]

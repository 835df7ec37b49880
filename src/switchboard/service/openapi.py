"""The OpenAPI document, made to say what the service really does.

Left to itself Litestar documents its own default error body, no status its guards and handlers
raise, and the limits written in the Structs rather than the ones the handlers enforce. Here:

- `errors(...)` on every route decorator: the `ErrorOut` body under each error status the
  operation can answer with (defined once, so the descriptions cannot drift apart);
- `BEARER` on the guarded controllers and the `bearer` scheme in the components;
- `document_bodies`: request bodies documented by msgspec, which validates them, and the text
  and batch limits from the app's own `Settings`, the values `service/scoring.py` and the batch
  route check, so the schema and the checks share one source;
- request examples (a realistic mention, a responder...) and human summaries;
- a docs page whose script and styles are served by the service itself (`static/swagger-ui`,
  vendored from the npm registry), so `/schema` works on a machine with no internet access.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import msgspec
from litestar import Litestar
from litestar.datastructures import CacheControlHeader
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, Example, SecurityScheme
from litestar.params import QueryParameter
from litestar.router import Router
from litestar.static_files import create_static_files_router

from switchboard import __version__
from switchboard.service.review import STATUSES
from switchboard.service.sampling import REASONS
from switchboard.service.schemas import ErrorOut
from switchboard.settings import Settings

SWAGGER_UI_VERSION = "5.35.0"  # static/swagger-ui/README.md says where it came from
ASSETS_DIR = Path(__file__).parent / "static" / "swagger-ui"
ASSETS_URL = "/static/swagger-ui"

# `security=` of everything behind `auth.require(scope)`: the key goes in `Authorization`.
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]

DESCRIPTION = """\
Routes social-media customer-care mentions: whether to reply and how (public, private or not
at all), at which tier, how urgently, and which responder should answer, with the reasons.

Every endpoint under `/v1` takes an API key as `Authorization: Bearer <key>`; each key has
scopes (`score`, `roster`, `review`; `admin` has them all). Every error, whatever its status,
has one body: `{"error": <machine-readable code>, "detail": <for a person>, "field": <the
offending field: a JSON path such as $.mentions[3].text for bodies, the parameter's name for
query and path values, Authorization for keys; null when no single field is to blame>}`.
"""

_ERRORS: dict[int, str] = {
    400: "`invalid_input` (a value cannot be used; `field` names it) or `invalid_json`",
    401: "`unauthorized`: no API key, or a key the service does not know",
    403: "`forbidden`: the key lacks the scope this operation needs",
    404: "`not_found`: the responder, prediction or mention does not exist",
    409: "a clash with the current state; `error` says which (e.g. `already_claimed`)",
    413: "`too_large`: the request body is over the 2 MiB limit",
    415: "`unsupported_media_type`: the body is not sent as `application/json`",
    503: "`no_model` (no verified model is loaded, so nothing can be scored), "
    "`database_unavailable` or `log_unavailable`: retry later",
    500: "`internal_error`: a bug; the traceback is in the service log",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """`responses=` for a route decorator: `ErrorOut` under each status given, and under 500,
    which any operation can answer with, in the same shape."""
    return {
        status: ResponseSpec(
            data_container=ErrorOut, description=_ERRORS[status], generate_examples=False
        )
        for status in sorted({*statuses, 500})
    }


def examples(summary: str, value: dict[str, Any]) -> list[Example]:
    """`Body(examples=...)`: what the docs page shows and pre-fills for a request body."""
    return [Example(summary=summary, value=value)]


MENTION: dict[str, Any] = {
    "id": "tw-1861350712",
    "text": "@AcmeAir my bag never made it to Lisbon and nobody answers the phone. "
    "Booking ref #A1234567, please help!",
    "channel": "twitter",
    "brand": "acmeair",
    "created_at": "2026-11-23T09:14:00Z",
    "language": "en",
    "author": {"id": "u-5521", "followers": 843, "verified": False},
}
MENTION_EXAMPLES = examples("A lost-bag complaint with a booking reference", MENTION)
BATCH_EXAMPLES = examples(
    "Two mentions",
    {
        "mentions": [
            MENTION,
            {"id": "ig-88231", "text": "Loving the new lounge in Porto, thank you! 😍"},
        ]
    },
)
RESPONDER_EXAMPLES = examples(
    "A care agent for complaints in English and Spanish",
    {
        "name": "Ana Ruiz",
        "skills": ["complaint", "order_issue"],
        "languages": ["en", "es"],
        "tiers": [2, 3, 4],
        "capacity": 6,
        "shift_start_hour": 8,
        "shift_end_hour": 16,
        "timezone": "Europe/Lisbon",
    },
)
PRESENCE_EXAMPLES = examples("Online with two open cases", {"online": True, "open_cases": 2})
CLAIM_EXAMPLES = examples("Ana takes it", {"responder_id": "ana"})
OUTCOME_EXAMPLES = examples(
    "Answered privately and resolved",
    {
        "responder_id": "ana",
        "replied_at": "2026-11-23T09:21:00Z",
        "reply_action": "private",
        "resolved": True,
        "csat": 5,
        "first_response_s": 420,
    },
)
REVIEW_EXAMPLES = examples(
    "The intent was wrong",
    {"verdict": "correct", "intent": "order_issue", "note": "lost bag, not a general complaint"},
)


# The review queue's filters stay strings in the handlers, because the review page shows a bad
# one back in its form rather than answering JSON; make_filter and parse_when check them, and
# these say what they accept. A blank value (an empty form field) means no filter.
_BLANK: dict[str, Any] = {"type": "string", "maxLength": 0}


def _filter(*accepted: dict[str, Any], description: str | None = None) -> Any:
    return QueryParameter(
        description=description, schema_extra={"oneOf": [*accepted, _BLANK, {"type": "null"}]}
    )


STATUS_QUERY = QueryParameter(schema_extra={"enum": list(STATUSES)})
REASON_QUERY = _filter({"type": "string", "enum": list(REASONS)})
TIER_QUERY = _filter({"type": "integer", "minimum": 1, "maximum": 5})
DATE_QUERY = _filter(
    {"type": "string", "format": "date"},
    description="a date (2026-11-23; an ISO 8601 date-time works too); naive means UTC",
)


# `?explain=` of the scoring endpoints (routes/scoring.py).
EXPLAIN_QUERY = QueryParameter(
    description="Also compute, per head, the words of the mention that moved it "
    "(`explanation.evidence`, with offsets to highlight) and its top model features "
    "(`explanation.features`). Off by default, since they cost more than the decision itself; "
    "without them both are empty, and `explanation.summary` and `explanation.rules` are given "
    "either way. The decision is the same with or without. `true` or `false` (`1`, `0`); "
    "any other value is a 400 naming `explain`. A replay (an id already scored with the same "
    "text) answers as the first time, explained only if that request asked.",
)


def openapi_config() -> OpenAPIConfig:
    """Title, version, description, the bearer scheme, and Swagger UI from local assets."""
    favicon = f"<link rel='icon' type='image/png' href='{ASSETS_URL}/favicon-32x32.png'>"
    swagger = SwaggerRenderPlugin(
        version=SWAGGER_UI_VERSION,
        js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_URL}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_URL}/swagger-ui-standalone-preset.js",
        favicon=favicon,
        path="/swagger",
    )
    bearer = SecurityScheme(
        type="http", scheme="bearer", description="An API key: `Authorization: Bearer <key>`"
    )
    return OpenAPIConfig(
        title="Switchboard",
        version=__version__,
        description=DESCRIPTION,
        components=Components(security_schemes={"bearer": bearer}),
        use_handler_docstrings=True,
        render_plugins=[swagger],  # the first plugin also answers at /schema itself
    )


def docs_assets() -> Router:
    """The vendored Swagger UI files, public like the docs page that loads them."""
    return create_static_files_router(
        path=ASSETS_URL,
        directories=[ASSETS_DIR],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=86_400),
    )


def _char_class(chars: list[str]) -> str:
    r"""`\uXXXX` ranges (read alike by JSON Schema's ECMA regexes and Python's `re`)."""
    codes, ranges = sorted(map(ord, chars)), []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(f"\\u{lo:04x}" if lo == hi else f"\\u{lo:04x}-\\u{hi:04x}" for lo, hi in ranges)


@cache
def text_pattern() -> str:
    """What `scoring.check_text` accepts, as a JSON Schema pattern: no NUL anywhere, and at
    least one character that `str.strip()` keeps. Python's white space is not ECMA's `\\s`
    (it has \\x1c-\\x1f and \\x85 too), so it is spelt out from `str.isspace`."""
    space = _char_class([chr(c) for c in range(0x10000) if chr(c).isspace()])
    return f"^[^\\u0000]*[^\\u0000{space}][^\\u0000]*$"


def document_bodies(app: Litestar, settings: Settings) -> None:
    """Document every request body with msgspec's own JSON Schema of its Struct, the library that
    validates it, so each documented constraint is one that is enforced and none is missing
    (Litestar's translation drops `ge=0`, constraints inside lists and optionals, and
    `forbid_unknown_fields`). Then the limits an operator can change, from the app's `Settings`,
    the same values `scoring.check_text` and the batch route check: a text's length
    (`max_text_chars`) and a batch's size (`max_batch`)."""
    _, components = msgspec.json.schema_components(
        _request_bodies(app), ref_template="#/components/schemas/{name}"
    )
    text = components["MentionIn"]["properties"]["text"]
    text["maxLength"] = settings.max_text_chars
    text["pattern"] = text_pattern()
    components["BatchIn"]["properties"]["mentions"]["maxItems"] = settings.max_batch
    # store.check_timezone accepts what zoneinfo can load: the IANA names on this machine.
    components["ResponderIn"]["properties"]["timezone"]["enum"] = sorted(available_timezones())
    # Plain JSON Schema dicts serialise as they are next to Litestar's Schema objects.
    app.openapi_schema.components.schemas.update(components)  # type: ignore[arg-type]


def _request_bodies(app: Litestar) -> list[type]:
    """The Struct of each documented route's `data` parameter."""
    bodies: set[type] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None and handler.resolve_include_in_schema():
                bodies.add(data.annotation)
    structs = (b for b in bodies if isinstance(b, type) and issubclass(b, msgspec.Struct))
    return sorted(structs, key=lambda b: b.__name__)

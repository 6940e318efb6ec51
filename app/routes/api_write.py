"""The editors' JSON API, /api/v1: add and correct exchanges and stages with a personal API token.

Every answer carries the record's ETag; a PATCH must send it back in If-Match, so that an editor
working on an old version gets 412 instead of overwriting a newer one.
"""

import re
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app import accounts, crud, writes
from app.deps import SessionDep
from app.models import (
    MAX_STORED_INT,
    Exchange,
    ExchangeCreate,
    ExchangeDetail,
    ExchangeWrite,
    OfficialTotalPublic,
    OfficialTotalWrite,
    SourcePublic,
    Stage,
    StageCreate,
    StagePublic,
    StageWrite,
    StaleVersion,
    StaleVersionError,
    TermsIn,
    TermsWrite,
    User,
    WriteBody,
)
from app.models import Conflict as ConflictRow

# ---- who is writing ----------------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False, description="A personal API token, from `swaptally create-token`"
)


def api_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The active owner of the request's token. Editors and admins alike may write."""
    if credentials is None:
        raise HTTPException(
            status_code=401,
            detail="Send a personal API token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = accounts.token_user(session, credentials.credentials)
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="This API token is unknown or revoked, or its user is deactivated",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return user


ApiUser = Annotated[User, Depends(api_user)]

router = APIRouter(
    prefix="/api/v1",
    tags=["editors"],
    dependencies=[Depends(api_user)],
    responses={
        400: {"description": "The body is not JSON in UTF-8"},
        401: {"description": "No token, a revoked one, or a deactivated user"},
    },
)

IF_MATCH_DESCRIPTION = 'The ETag of the version being changed, e.g. "stage-12-v3" (not `*`)'
# Read here as optional, so that a missing one is the promised 428 (a required header would be
# a 422); documented as required, since a PATCH without it is always refused.
IfMatch = Annotated[str | None, Header(include_in_schema=False)]
IF_MATCH_REQUIRED: dict[str, Any] = {
    "parameters": [
        {
            "name": "If-Match",
            "in": "header",
            "required": True,
            "description": IF_MATCH_DESCRIPTION,
            "schema": {"type": "string"},
        }
    ]
}
Changes = Annotated[
    dict[str, Any],
    Body(
        description="Only the fields that change, named as in POST; a list given (`sides`, "
        "`sources`) replaces the stored one. `reason` is required when a published figure "
        "changes."
    ),
]
# On a stage PATCH merged with changes saved since its If-Match version: the fields kept from them.
MERGED_HEADER = "Swaptally-Merged"
PATCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such record, or it was deleted"},
    412: {"description": "If-Match names an older version", "model": StaleVersionError},
    428: {"description": "If-Match is missing, or `*`"},
}


# ---- versions ----------------------------------------------------------------------------


def exchange_etag(slug: str, version: int) -> str:
    return f'"exchange-{slug}-v{version}"'


def stage_etag(stage_id: int | None, version: int) -> str:
    return f'"stage-{stage_id}-v{version}"'


def _based_on(if_match: str | None, etag_prefix: str, current: int) -> int:
    """The version If-Match names for this record: the current one if among them, else any
    other (0 when it names none), which saving refuses as stale."""
    tags = [tag.strip() for tag in (if_match or "").split(",") if tag.strip()]
    if not tags or "*" in tags:
        # `*` only says "if it exists": it would let a client overwrite changes it never saw.
        raise HTTPException(
            status_code=428,
            detail="Send If-Match with the ETag of the version you are changing (not *)",
        )
    pattern = re.compile(rf'"{re.escape(etag_prefix)}-v([1-9][0-9]*)"')
    versions = [int(found[1]) for tag in tags if (found := pattern.fullmatch(tag))]
    return current if current in versions else next(iter(versions), 0)


def _stale(etag: str, conflict: writes.Conflict) -> HTTPException:
    detail = StaleVersion(
        message="A newer version was saved meanwhile: merge your change into `current` and send "
        "it again with its ETag"
        + (f" (both changed: {', '.join(conflict.clashes)})" if conflict.clashes else ""),
        etag=etag,
        version=conflict.version,
        current=conflict.current,
        clashes=conflict.clashes,
    )
    return HTTPException(status_code=412, detail=detail.model_dump(), headers={"ETag": etag})


# ---- bodies ------------------------------------------------------------------------------

WriteSchema = TypeVar("WriteSchema", bound=WriteBody)


def _invalid(field: str, message: str, value: Any = None) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": message, "input": value}]
    )


def _validated(schema: type[WriteSchema], data: dict[str, Any]) -> WriteSchema:
    """A PATCH's merged body, validated as POST validates its body (422 naming each field)."""
    try:
        return schema.model_validate(data)
    except ValidationError as invalid:
        errors = invalid.errors(include_url=False)
        for error in errors:
            error["loc"] = ("body", *error["loc"])
        raise RequestValidationError(errors) from None


def _refuse_unknown(changes: dict[str, Any], schema: type[WriteBody]) -> None:
    """A PATCH names only fields it may change: a misspelt one is a 422, never a silent 200."""
    shown = StagePublic if schema is StageWrite else ExchangeDetail
    known = set(schema.model_fields) | set(shown.model_fields)  # read-only fields are known
    unknown = [name for name in changes if name not in known]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("body", name),
                    "msg": "Extra inputs are not permitted: no such field",
                    "input": changes[name],
                }
                for name in unknown
            ]
        )


def _domain_invalid(invalid: writes.Invalid) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", *invalid.loc), "msg": str(invalid), "input": None}]
    )


def _exchange_data(body: ExchangeWrite) -> ExchangeCreate:
    return ExchangeCreate.model_validate(body.model_dump(exclude={"reason"}))


def _stage_data(body: StageWrite) -> StageCreate:
    return StageCreate.model_validate(body.model_dump(exclude={"reason"}))


# ---- records -----------------------------------------------------------------------------


def _exchange_or_404(session: Session, slug: str) -> Exchange:
    """An exchange editors may change: drafts too, deleted ones not."""
    exchange = crud.get_exchange_row(session, slug=slug, include_drafts=True)
    if exchange is None:
        raise HTTPException(status_code=404, detail=f"No exchange with slug {slug!r}")
    return exchange


def _slug_taken(session: Session, slug: str) -> bool:
    """Deleted exchanges keep their slugs: old embed codes must never show another exchange."""
    return session.scalar(select(col(Exchange.id)).where(col(Exchange.slug) == slug)) is not None


def _stage_or_404(session: Session, stage_id: int) -> tuple[Stage, Exchange]:
    stage = session.get(Stage, stage_id) if 0 < stage_id <= MAX_STORED_INT else None
    exchange = session.get(Exchange, stage.exchange_id) if stage is not None else None
    if (
        stage is None
        or stage.deleted_at is not None
        or exchange is None
        or exchange.deleted_at is not None
    ):
        raise HTTPException(status_code=404, detail=f"No stage with id {stage_id}")
    return stage, exchange


def _exchange_detail(session: Session, exchange: Exchange) -> ExchangeDetail:
    detail = crud.get_exchange(session, slug=exchange.slug, include_drafts=True)
    assert detail is not None
    return detail


def _stage_public(session: Session, stage: Stage, exchange: Exchange) -> StagePublic:
    [public] = crud.stage_publics(session, [stage], slugs={exchange.id: exchange.slug})
    return public


# ---- exchanges ---------------------------------------------------------------------------


@router.post("/exchanges", status_code=201)
def create_exchange(
    body: ExchangeWrite, user: ApiUser, session: SessionDep, response: Response
) -> ExchangeDetail:
    """Add an exchange, with any stages it lists. Answers its record, ETag and Location."""
    try:
        exchange = writes.create_exchange(
            session,
            data=_exchange_data(body),
            actor=user.email,
            user_id=user.id,
            reason=body.reason,
        )
        session.commit()
    except writes.Invalid as invalid:
        session.rollback()
        raise _domain_invalid(invalid) from None
    except IntegrityError:
        session.rollback()
        if not _slug_taken(session, body.slug):
            raise
        message = "an exchange with this slug exists already (slugs are never reused)"
        raise _invalid("slug", message, body.slug) from None
    response.headers["ETag"] = exchange_etag(exchange.slug, exchange.version)
    response.headers["Location"] = f"{router.prefix}/exchanges/{exchange.slug}"
    return _exchange_detail(session, exchange)


@router.patch("/exchanges/{slug}", responses=PATCH_RESPONSES, openapi_extra=IF_MATCH_REQUIRED)
def update_exchange(
    slug: str,
    changes: Changes,
    user: ApiUser,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> ExchangeDetail:
    """Change an exchange. Its slug stays (it is in embed codes); its stages change one by one."""
    exchange = _exchange_or_404(session, slug)
    based_on = _based_on(if_match, f"exchange-{exchange.slug}", exchange.version)
    if changes.get("slug", exchange.slug) != exchange.slug:
        message = "the slug cannot change: embed codes and links use it"
        raise _invalid("slug", message, changes["slug"])
    if "stages" in changes:
        message = "change a stage with PATCH /api/v1/stages/{id}, add one with POST …/stages"
        raise _invalid("stages", message)
    _refuse_unknown(changes, ExchangeWrite)
    if "parties" in changes or "terms" in changes or "conflict" in changes:
        message = "parties and the conflict stay; add a terms version with POST …/terms"
        raise _invalid(next(k for k in ("parties", "terms", "conflict") if k in changes), message)
    body = _validated(ExchangeWrite, writes.exchange_snapshot(session, exchange) | changes)
    try:
        writes.update_exchange(
            session,
            exchange=exchange,
            data=_exchange_data(body),
            expected_version=based_on,
            actor=user.email,
            user_id=user.id,
            reason=body.reason,
        )
    except writes.Conflict as conflict:
        raise _stale(exchange_etag(exchange.slug, conflict.version), conflict) from None
    except writes.ReasonRequired as error:
        raise _invalid(error.field, str(error)) from None
    session.commit()
    response.headers["ETag"] = exchange_etag(exchange.slug, exchange.version)
    return _exchange_detail(session, exchange)


# ---- stages ------------------------------------------------------------------------------


@router.post(
    "/exchanges/{slug}/stages",
    status_code=201,
    responses={404: {"description": "No such exchange, or it was deleted"}},
)
def create_stage(
    slug: str, body: StageWrite, user: ApiUser, session: SessionDep, response: Response
) -> StagePublic:
    """Add a stage to an exchange. Answers its record, ETag and Location."""
    exchange = _exchange_or_404(session, slug)
    try:
        stage = writes.create_stage(
            session,
            exchange=exchange,
            data=_stage_data(body),
            actor=user.email,
            user_id=user.id,
            reason=body.reason,
        )
    except writes.Invalid as invalid:
        session.rollback()
        raise _domain_invalid(invalid) from None
    session.commit()
    response.headers["ETag"] = stage_etag(stage.id, stage.version)
    response.headers["Location"] = f"{router.prefix}/stages/{stage.id}"
    return _stage_public(session, stage, exchange)


@router.get("/stages/{stage_id}", responses={404: PATCH_RESPONSES[404]})
def read_stage(stage_id: int, session: SessionDep, response: Response) -> StagePublic:
    """One stage, drafts included, with the ETag that a PATCH sends back."""
    stage, exchange = _stage_or_404(session, stage_id)
    response.headers["ETag"] = stage_etag(stage.id, stage.version)
    response.headers["Cache-Control"] = "private, no-store"
    return _stage_public(session, stage, exchange)


STAGE_PATCH_RESPONSES = PATCH_RESPONSES | {
    200: {
        "description": "Saved. If-Match may name an older version: the change is then merged "
        "with what others saved since, when they changed other fields (else 412)",
        "headers": {
            MERGED_HEADER: {
                "description": "The fields kept from changes saved since If-Match's version "
                "(date, notes, disputed_reason, published, releases, sources), when merged",
                "schema": {"type": "string"},
            }
        },
    },
    412: {
        "description": "A field this change sets was changed differently since If-Match's version",
        "model": StaleVersionError,
    },
}


@router.patch(
    "/stages/{stage_id}", responses=STAGE_PATCH_RESPONSES, openapi_extra=IF_MATCH_REQUIRED
)
def update_stage(
    stage_id: int,
    changes: Changes,
    user: ApiUser,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> StagePublic:
    """Change a stage: correct its figures (with a reason), sources, status, or publish it."""
    stage, exchange = _stage_or_404(session, stage_id)
    based_on = _based_on(if_match, f"stage-{stage.id}", stage.version)
    if changes.get("exchange", exchange.slug) != exchange.slug:
        message = "a stage cannot move to another exchange"
        raise _invalid("exchange", message, changes["exchange"])
    _refuse_unknown(changes, StageWrite)
    # The changes apply to the version the client read; merge_stage then keeps what others
    # changed since in other fields (or refuses with 412 where both changed one).
    assert stage.id is not None
    stored = writes.stage_snapshot(session, stage, with_sides=False)
    based = writes.stage_revision(session, stage.id, based_on)
    if based_on != stage.version and based is not None:
        stored = {name: (based.after or based.before or stored)[name] for name in writes.MERGED}
    if "sides" in changes:  # the first API's shape replaces the releases
        del stored["releases"]
    body = _validated(StageWrite, stored | changes)
    try:
        merged = writes.save_stage_edit(
            session, stage=stage, data=_stage_data(body), based_on=based_on,
            actor=user.email, user_id=user.id, reason=body.reason,
        )  # fmt: skip
    except writes.Conflict as conflict:
        raise _stale(stage_etag(stage.id, conflict.version), conflict) from None
    except writes.ReasonRequired as error:
        raise _invalid(error.field, str(error)) from None
    except writes.Invalid as invalid:
        session.rollback()
        raise _domain_invalid(invalid) from None
    session.commit()
    response.headers["ETag"] = stage_etag(stage.id, stage.version)
    if merged.theirs:
        response.headers[MERGED_HEADER] = ", ".join(merged.theirs)
    return _stage_public(session, stage, exchange)


# ---- terms and official totals ------------------------------------------------------------


@router.post(
    "/exchanges/{slug}/terms",
    status_code=201,
    responses={404: {"description": "No such exchange, or it was deleted"}},
)
def add_terms(
    slug: str, body: TermsWrite, user: ApiUser, session: SessionDep, response: Response
) -> ExchangeDetail:
    """Record a change to the deal (an amendment: extended, enlarged, rescheduled) from its
    `effective` day on. Readers see it as news, never as a correction. Answers the exchange."""
    exchange = _exchange_or_404(session, slug)
    try:
        writes.add_terms(
            session,
            exchange=exchange,
            data=TermsIn.model_validate(body.model_dump(exclude={"reason"})),
            actor=user.email,
            user_id=user.id,
            reason=body.reason,
        )
    except writes.Invalid as invalid:
        session.rollback()
        raise _domain_invalid(invalid) from None
    session.commit()
    response.headers["ETag"] = exchange_etag(exchange.slug, exchange.version)
    response.headers["Location"] = f"{router.prefix}/exchanges/{exchange.slug}"
    return _exchange_detail(session, exchange)


@router.post(
    "/conflicts/{slug}/official-totals",
    status_code=201,
    responses={404: {"description": "No such conflict"}},
)
def add_official_total(
    slug: str, body: OfficialTotalWrite, user: ApiUser, session: SessionDep
) -> OfficialTotalPublic:
    """Record a running total a party published ("8,050 returned"), shown beside our sums."""
    conflict = session.scalars(select(ConflictRow).where(col(ConflictRow.slug) == slug)).first()
    if conflict is None:
        raise HTTPException(status_code=404, detail=f"No conflict with slug {slug!r}")
    try:
        writes.add_official_total(
            session, conflict=conflict, data=body, actor=user.email, user_id=user.id
        )
    except writes.Invalid as invalid:
        session.rollback()
        raise _domain_invalid(invalid) from None
    session.commit()
    return OfficialTotalPublic(
        people=body.people,
        measure=body.measure,
        qualifier=body.qualifier,
        as_of=body.as_of,
        note=body.note,
        source=SourcePublic.model_validate(body.source.model_dump(exclude={"figures"})),
    )

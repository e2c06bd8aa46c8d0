"""Reason codes: the one registry of every refusal the portal can give.

A refusal travels as a stable ``code`` plus ``params`` (and, for people reading logs,
the English ``detail``). The portal picks the code; the kiosk says it in the citizen's
or operator's language from the same registry, so a new code is one row here, its
translations in the .po files, and a line in docs/sync-protocol.md (a test checks that
the document lists every code). Later work (decisions, appeals) adds its codes here.

``status`` is the HTTP status when the code refuses a whole request; item outcomes
inside a 200 answer use ``ITEM`` (0).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

from kiosk.i18n import N_, tr

ITEM = 0  # not an HTTP refusal: one item's outcome inside a 200 answer


@dataclass(frozen=True)
class Reason:
    code: str
    status: int
    msgid: str  # English, with {name} placeholders filled from the refusal's params

    @property
    def params(self) -> frozenset[str]:
        """The placeholder names ``msgid`` uses: every refusal must give them all."""
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.msgid) if name)


_ROWS = (
    # Requests: the body and the protocol.
    Reason("body.encoding", 415, N_("The request's encoding must be gzip or identity.")),
    Reason("body.too_large", 413, N_("The request is larger than {limit} bytes.")),
    Reason("body.inflated_too_large", 413, N_("The request unpacks to more than {limit} bytes.")),
    Reason("body.not_gzip", 400, N_("The request is not valid gzip.")),
    Reason("body.truncated", 400, N_("The request was cut off in transit.")),
    Reason("body.not_json", 400, N_("The request is not JSON.")),
    Reason("body.slow", 408, N_("The request did not arrive within {seconds} seconds.")),
    Reason("body.no_items", 400, N_("The request has no list of items.")),
    Reason("body.invalid", 422, N_("The request's fields are invalid: {detail}")),
    Reason("batch.too_many_items", 413, N_("More than {limit} items in one batch.")),
    # Protocol v2 and submissions bound to their device.
    Reason(
        "protocol.upgrade",
        426,
        N_(
            "This kiosk speaks sync protocol version {old}; the portal needs version {new}. "
            "Upgrade the kiosk software, then sync again."
        ),
    ),
    Reason(
        "enrol.prefix",
        422,
        N_("The tracking-code prefix {prefix} does not belong to this kiosk's device id."),
    ),
    Reason(
        "item.foreign_code",
        ITEM,
        N_("The tracking code {tracking_code} belongs to another kiosk, not to this one."),
    ),
    # Bounds checked before a body is parsed (sync/bodies.py).
    Reason("body.too_deep", 400, N_("The request is nested deeper than {limit} levels.")),
    Reason("body.too_many_values", 413, N_("The request holds more than {limit} values.")),
    Reason("body.string_too_long", 413, N_("The request holds a text longer than {limit} bytes.")),
    # Authentication and enrolment.
    Reason("auth.token", 401, N_("The portal no longer accepts this kiosk: enrol it again.")),
    Reason("enrol.code", 403, N_("The enrolment code is unknown, already used or expired.")),
    # Hardened enrolment: guessing is rate-limited, a known device needs a code made for it.
    Reason(
        "enrol.rate_limited",
        429,
        N_("Too many wrong enrolment codes were tried. Try again in {minutes} min."),
    ),
    Reason(
        "enrol.device_bound",
        403,
        N_(
            "This kiosk ({device_id}) is already registered at the portal: enrolling it again "
            "needs a code made for it (kiosk portal enrolment-code --device {device_id})."
        ),
    ),
    Reason("enrol.other_device", 403, N_("This enrolment code was made for another device.")),
    # Bundles.
    Reason("bundle.too_large", 413, N_("The bundle unpacks to more than {limit} bytes.")),
    Reason("bundle.damaged", 422, N_("The bundle file is damaged: {detail}")),
    Reason("bundle.signature", 422, N_("The bundle's signature does not match its device.")),
    Reason("bundle.too_many_items", 413, N_("More than {limit} items in one bundle.")),
    Reason(
        "bundle.revoked",
        403,
        N_("The bundle was signed by device {device_id}, which the portal has revoked."),
    ),
    # Bundles: checked before their items are parsed (sync/bundle.py, format 2).
    Reason("bundle.not_bundle", 422, N_("The file is not a kiosk bundle.")),
    Reason(
        "bundle.old_version",
        422,
        N_(
            "The bundle was made by an older version of the kiosk: update that kiosk and "
            "export again (its submissions are still queued there)."
        ),
    ),
    Reason(
        "bundle.version", 422, N_("The bundle was made by an unsupported version of the kiosk.")
    ),
    Reason(
        "bundle.truncated",
        422,
        N_("The bundle file is damaged: it is cut short or does not decompress."),
    ),
    Reason(
        "bundle.checksum",
        422,
        N_("The bundle file was damaged or edited: its checksum does not match."),
    ),
    Reason("bundle.line_too_long", 413, N_("An item of the bundle is larger than {limit} bytes.")),
    Reason(
        "bundle.too_many_values", 413, N_("An item of the bundle holds more than {limit} values.")
    ),
    Reason(
        "bundle.too_deep", 422, N_("An item of the bundle is nested deeper than {limit} levels.")
    ),
    # One item of a batch or a bundle.
    Reason("item.id", ITEM, N_("The submission's id is not a lowercase UUID.")),
    Reason("item.field", ITEM, N_("The submission's field {field} is missing or invalid.")),
    Reason(
        "item.lang",
        ITEM,
        N_("The submission's language {lang} is not one the portal knows ({accepted})."),
    ),
    Reason("item.too_large", ITEM, N_("The answers are larger than {limit} bytes.")),
    Reason("item.hash", ITEM, N_("The answers do not match their content hash.")),
    # Values JSON parsers accept but nothing can hash or store (kiosk.wire.json_problem).
    Reason(
        "item.value",
        ITEM,
        N_("The submission holds a number out of range or text that is not valid Unicode."),
    ),
    Reason("item.conflict", ITEM, N_("A different submission with this id was already received.")),
    Reason(
        "item.unknown_form",
        ITEM,
        N_("The portal does not know form {form_id} version {form_version}."),
    ),
    Reason("item.code_taken", ITEM, N_("The tracking code is already used by another submission.")),
    Reason("item.answers", ITEM, N_("The portal found the answers invalid: {detail}")),
    # Claims on pre-enrolment codes (sync/portal/claims.py): made at enrolment, they, not
    # the brute-forceable derived prefix, make those codes the kiosk's.
    Reason(
        "item.claim_mismatch",
        ITEM,
        N_(
            "The tracking code {tracking_code} was claimed at enrolment for another "
            "submission: this one was changed since."
        ),
    ),
    Reason(
        "claim.taken",
        ITEM,
        N_(
            "The tracking code {tracking_code}, made before enrolment, is already claimed "
            "by another kiosk: the portal will not accept its application from this kiosk."
        ),
    ),
    Reason(
        "claim.invalid",
        ITEM,
        N_("The tracking code {tracking_code} is not one this kiosk made before enrolment."),
    ),
    Reason(
        "claim.limit",
        413,
        N_("At most {limit} applications made before enrolment can be claimed."),
    ),
    # Live status look-ups (issue 14): any tracking code, rate-limited per source.
    Reason(
        "status.rate_limited",
        429,
        N_("Too many status look-ups from this kiosk's address. Try again in {minutes} min."),
    ),
    # Staff accounts and the staff status API (sync/portal/staff.py, docs/staff.md): a
    # staff token is not a device token and never works where one is asked for.
    Reason("staff.token", 401, N_("The portal does not accept this staff token.")),
    Reason(
        "staff.role",
        403,
        N_("Staff with the role {role} may not set the status {status}."),
    ),
    Reason(
        "status.unknown",
        422,
        N_("Unknown status {status}; the statuses are: {expected}."),
    ),
    Reason("status.not_found", 404, N_("No application has the tracking code {tracking_code}.")),
    Reason("status.reason_needed", 422, N_("The status {status} needs a decision reason code.")),
    Reason("status.reason_unknown", 422, N_("Unknown decision reason {reason_code}.")),
    Reason(
        "status.reason_mismatch",
        422,
        N_("The decision reason {reason_code} does not go with the status {status}."),
    ),
    # Open data (sync/portal/open_data.py, docs/open-data.md): whole past months only.
    Reason("opendata.month", 422, N_("Give one month as YYYY-MM, for example {example}.")),
    Reason(
        "opendata.not_over",
        422,
        N_("The month {month} is not over yet: only whole past months are published."),
    ),
    Reason(
        "opendata.range",
        422,
        N_("Open data is published by whole months only: ask for one month=YYYY-MM, no range."),
    ),
    Reason("opendata.format", 422, N_("Unknown format {format}: ask for json or csv.")),
    # Once-only prefill (issue 16, docs/once-only.md): registry look-ups need the
    # citizen's consent and an operator's ID check; refused ones are logged as such.
    Reason(
        "registry.consent",
        403,
        N_("The citizen's consent to the registry look-up was not recorded."),
    ),
    Reason(
        "registry.id_check",
        403,
        N_(
            "The registry is consulted only after an operator checked the citizen's ID "
            "document ({method}: {documents})."
        ),
    ),
    Reason(
        "registry.purpose",
        422,
        N_("Unknown purpose {purpose} for a registry look-up; the purposes are: {expected}."),
    ),
    Reason(
        "registry.field",
        422,
        N_("Unknown registry field {field}; the fields are: {expected}."),
    ),
    Reason("registry.pinfl", 422, N_("The registry is asked only for a valid PINFL.")),
    Reason(
        "registry.lookup_reused",
        409,
        N_("This look-up was already made for another person; start a new one."),
    ),
    Reason(
        "registry.unavailable",
        424,
        N_("The state registry cannot be consulted now; ask the questions as usual."),
    ),
    # Decision reasons: why staff set a status (not refusals: ITEM). The status change
    # carries the code; the kiosk says it in the citizen's language. Which statuses each
    # goes with is DECISION_STATUSES below.
    Reason("decision.documents_missing", ITEM, N_("Some required documents are missing.")),
    Reason(
        "decision.info_unclear",
        ITEM,
        N_("Some information in the application is unclear or does not match the documents."),
    ),
    Reason("decision.not_eligible", ITEM, N_("The applicant is not eligible for this service.")),
    Reason("decision.duplicate", ITEM, N_("The same application was already made.")),
    Reason("decision.withdrawn", ITEM, N_("The applicant withdrew the application.")),
    Reason("decision.approved_as_requested", ITEM, N_("Approved as requested.")),
    Reason("decision.approved_in_part", ITEM, N_("Approved in part.")),
    Reason("decision.service_provided", ITEM, N_("The service has been provided.")),
    Reason("decision.under_review", ITEM, N_("A specialist is reviewing the application.")),
    # Appeals (issue 16, sync/portal/appeals.py, docs/appeals.md): an ombudsman's
    # decisions on an appeal, and what an overturn does to the application appealed.
    Reason("decision.appeal_upheld", ITEM, N_("The appeal was examined: the decision stands.")),
    Reason(
        "decision.appeal_overturned",
        ITEM,
        N_("The appeal was examined: the decision was wrong and has been changed."),
    ),
    Reason(
        "decision.overturned_on_appeal",
        ITEM,
        N_("An ombudsman found the earlier decision wrong and changed it."),
    ),
    # Appeals refused at the portal (an appeal item's outcome), and the staff side.
    Reason(
        "appeal.unknown_code",
        ITEM,
        N_("No application has the tracking code {tracking_code}: the appeal cannot be linked."),
    ),
    Reason(
        "appeal.not_appealable",
        ITEM,
        N_(
            "The application {tracking_code} cannot be appealed: it was not refused and "
            "is not past its deadline."
        ),
    ),
    Reason(
        "appeal.already_appealed",
        ITEM,
        N_("This decision on the application {tracking_code} has already been appealed."),
    ),
    Reason(
        "appeal.not_applicant",
        ITEM,
        N_(
            "Only the applicant may appeal the application {tracking_code}, and the PINFL "
            "given is not the one on it. Check the PINFL, or the applicant should come "
            "themselves."
        ),
    ),
    Reason(
        "appeal.id_check_needed",
        ITEM,
        N_(
            "The application {tracking_code} gave no PINFL, so it can be appealed only "
            "with the operator, after they check your ID document."
        ),
    ),
    Reason("appeal.not_found", 404, N_("No appeal has the tracking code {tracking_code}.")),
    Reason("appeal.decided", 409, N_("The appeal {tracking_code} has already been decided.")),
    Reason(
        "appeal.is_appeal",
        422,
        N_("{tracking_code} is an appeal: an ombudsman decides it through the appeals API."),
    ),
    Reason("staff.appeals_role", 403, N_("Staff with the role {role} may not handle appeals.")),
    # Sealed submissions (kiosk/sealing.py): items travel sealed to the portal's key.
    Reason(
        "sealed.unopenable",
        ITEM,
        N_(
            "The portal cannot open the sealed answers ({detail}): they were sealed to a "
            "key it does not hold, or damaged."
        ),
    ),
    Reason(
        "sealed.plaintext",
        ITEM,
        N_("The answers were sent unsealed; this portal accepts sealed answers only."),
    ),
    # Participation (issue 16, docs/participation.md): votes and petition signatures
    # (items, refused one by one) and the one-time codes that confirm pending ones.
    Reason("participation.pinfl", 422, N_("A PINFL has 14 digits.")),
    Reason(
        "participation.nothing_pending",
        404,
        N_(
            "Nothing is waiting for confirmation here: it may have expired, or this PINFL "
            "has already voted or signed."
        ),
    ),
    Reason(
        "participation.unknown_person",
        ITEM,
        N_("This PINFL is not in the state register: check the number on the ID card."),
    ),
    Reason(
        "participation.too_many_pending",
        ITEM,
        N_(
            "{most} unconfirmed votes or signatures already wait under this PINFL: confirm "
            "one with a code, or ask the operator to check your ID."
        ),
    ),
    Reason(
        "vote.already",
        ITEM,
        N_("This PINFL has already voted in this season; a second vote is not counted."),
    ),
    Reason("vote.season_unknown", 404, N_("There is no vote season {season}.")),
    Reason("vote.season_closed", ITEM, N_("Voting in the season {season} is closed.")),
    Reason(
        "vote.initiative_unknown",
        ITEM,
        N_("The initiative {initiative} is not on the ballot of the season {season}."),
    ),
    Reason(
        "petition.already",
        ITEM,
        N_("This PINFL has already signed this petition; a second signature is not counted."),
    ),
    Reason("petition.unknown", 404, N_("There is no petition {petition}.")),
    Reason(
        "petition.fields",
        ITEM,
        N_("A petition needs a title (up to {title} characters) and a text (up to {text})."),
    ),
    Reason(
        "otp.no_phone",
        404,
        N_("No phone number is on record for this PINFL: ask the operator to check your ID."),
    ),
    Reason(
        "otp.rate_limited",
        429,
        N_("Too many codes were sent; try again in {seconds} seconds."),
    ),
    Reason("otp.wrong", 422, N_("The code is wrong; {left} tries left.")),
    Reason(
        "otp.already_counted",
        409,
        N_("This PINFL had already voted or signed here before: this one is not counted."),
    ),
    Reason(
        "otp.season_closed",
        409,
        N_("Voting in the season {season} has closed: this vote can no longer be confirmed."),
    ),
    Reason("otp.expired", 422, N_("The code has expired or was used up; ask for a new one.")),
)

REGISTRY: dict[str, Reason] = {row.code: row for row in _ROWS}

# The statuses each decision reason may go with (sync/portal/staff.py checks it; a
# status in STATUSES_NEEDING_REASON needs one).
DECISION_STATUSES: dict[str, tuple[str, ...]] = {
    "decision.documents_missing": ("needs_info", "rejected"),
    "decision.info_unclear": ("needs_info", "rejected"),
    "decision.not_eligible": ("rejected",),
    "decision.duplicate": ("rejected",),
    "decision.withdrawn": ("rejected", "completed"),
    "decision.approved_as_requested": ("approved",),
    "decision.approved_in_part": ("approved",),
    "decision.service_provided": ("completed",),
    "decision.under_review": ("in_review",),
    "decision.appeal_upheld": ("upheld",),
    "decision.appeal_overturned": ("overturned",),
    "decision.overturned_on_appeal": ("in_review", "approved"),
}
STATUSES_NEEDING_REASON = ("needs_info", "rejected")

UNKNOWN = N_("The portal refused it (reason {code}).")
# A "code" that is not shaped like one (a sentence, say) is not repeated to people.
UNKNOWN_UNNAMED = N_("The portal refused it for a reason this kiosk does not know.")
_CODE_SHAPE = re.compile(r"[a-z][a-z0-9_]{0,30}(\.[a-z0-9_]{1,30}){0,3}")
# What the kiosk says for codes whose English message quotes free text the portal wrote
# (``detail``), which is never repeated to people: the first message whose params the
# refusal holds (item.answers names the refused fields when the portal gives them).
_KIOSK_SAYS: dict[str, tuple[str, ...]] = {
    "body.invalid": (N_("The request's fields are invalid."),),
    "bundle.damaged": (N_("The bundle file is damaged."),),
    "sealed.unopenable": (
        N_(
            "The portal cannot open the sealed answers: they were sealed to a key it does "
            "not hold, or damaged."
        ),
    ),
    "item.answers": (
        N_("The portal found these answers invalid: {fields}."),
        N_("The portal found the answers invalid."),
    ),
}
# A param that reads as words ("unknown form", "SENTINEL english detail") is the wire's
# prose, not a value (form ids, versions, codes, numbers): the code is said without it.
_PROSE = re.compile(r"[^\W\d_]{2,}\s+[^\W\d_]{2,}")


class Refusal(TypedDict):
    """A refusal as it travels: in an error body, or beside an item's outcome."""

    code: str
    params: dict[str, str]
    detail: str


def get(code: str) -> Reason:
    """The registered reason; KeyError for a code the registry does not define."""
    return REGISTRY[code]


def refusal(code: str, **params: object) -> Refusal:
    """The wire form of ``code`` with ``params``; raises for an unknown code or a missing param."""
    reason = REGISTRY[code]
    missing = reason.params - params.keys()
    if missing:
        raise ValueError(f"reason {code} needs {sorted(missing)}")
    text = {name: safe_text(value) for name, value in params.items()}
    return {"code": code, "params": text, "detail": reason.msgid.format(**text)}


MAX_PARAM = 200  # characters of one param: a refusal echoes client text, never much of it


def safe_text(value: object, limit: int = MAX_PARAM) -> str:
    """``value`` as text any JSON encoder takes: at most ``limit`` characters (cut with
    an ellipsis), each lone surrogate replaced (a client may send ``"\\ud800"``)."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return text.encode("utf-8", "replace").decode("utf-8")


def received(code: object, params: object) -> tuple[Reason, dict[str, str]] | None:
    """A refusal as a portal sent it, if the kiosk can say it: a registered ``code`` and
    every param its message names (as bounded text, none of them prose); None otherwise
    (a newer portal's code, params missing or holding words), when only a message of the
    kiosk's own will do. The Reason returned says what the kiosk shows: for a code whose
    English quotes the portal's free text (``detail``), its message without it."""
    reason = REGISTRY.get(code) if isinstance(code, str) else None
    if reason is None or not isinstance(params, Mapping):
        return None
    for msgid in _KIOSK_SAYS.get(reason.code, (reason.msgid,)):
        said = Reason(reason.code, reason.status, msgid)
        values = _sayable(said, params)
        if values is not None:
            return said, values
    return None


def _sayable(reason: Reason, params: Mapping[object, object]) -> dict[str, str] | None:
    """The params ``reason``'s message names, as bounded text; None when one is missing,
    empty or prose."""
    if not reason.params <= params.keys():
        return None
    values = {name: safe_text(params[name], 300) for name in reason.params}
    if any(not value.strip() or _PROSE.search(value) for value in values.values()):
        return None
    return values


def code_shaped(code: object) -> str | None:
    """``code`` when it looks like a reason code (``item.unknown_form``), else None."""
    return code if isinstance(code, str) and _CODE_SHAPE.fullmatch(code) else None


def say(lang: str, code: object, params: object = None, detail: object = None) -> str:
    """A refusal in ``lang``, from whatever a portal sent (never raises).

    Only the code speaks: a registered one in the kiosk's words; an unregistered one (a
    newer portal) as a message of the kiosk's naming it. The portal's English ``detail``
    is never shown (it is for logs), whatever the code.
    """
    del detail  # kept in the signature: callers pass what the portal sent
    known = received(code, params)
    if known is not None:
        return tr(lang, known[0].msgid, **known[1])
    shaped = code_shaped(code)
    if shaped is None:
        return tr(lang, UNKNOWN_UNNAMED)
    return tr(lang, UNKNOWN, code=shaped)

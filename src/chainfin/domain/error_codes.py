"""The one vocabulary of refusals: every code an API problem, a CLI error or a credit
decision reason can carry, with its HTTP status, a title, when it happens and what the
client can do about it.

A code is snake_case and stable; the API serves it as the problem ``type``
``/problems/<code>`` and lists the whole catalogue at ``GET /problems``. A decision reason
(:mod:`chainfin.domain.decision`) is a code too, with ``decision`` naming the outcome it
gives (``decline`` or ``refer``): a declined application and a 409 for the same cause (a
line that another approval exhausted, a line frozen meanwhile) carry the same code.

:class:`~chainfin.domain.errors.ChainfinError` refuses to be built with a code that is not
here, so the catalogue and the code base cannot drift apart; ``docs/errors.md`` is
generated from it (``python -m chainfin.domain.error_codes > docs/errors.md``).

>>> CODES["line_frozen"].status, CODES["line_frozen"].decision
(409, 'decline')
>>> CODES["loan_not_found"].title
'No such loan'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["CODES", "ErrorCode", "reference_markdown"]


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One entry of the catalogue. ``status`` is None for a code that is only ever a
    decision reason (it never reaches a client as an error); ``decision`` is the outcome a
    credit-decision rule with this code gives, or None."""

    code: str
    status: int | None
    title: str
    when: str
    action: str
    decision: str | None = None


def _e(code: str, status: int | None, title: str, when: str, action: str) -> ErrorCode:
    return ErrorCode(code, status, title, when, action)


def _reason(
    code: str, outcome: str, title: str, when: str, action: str, status: int | None = None
) -> ErrorCode:
    return ErrorCode(code, status, title, when, action, outcome)


def _not_found(resource: str, label: str | None = None, find: str = "") -> ErrorCode:
    """``<resource>_not_found``: the id names nothing the caller may see."""
    label = label or resource.replace("_", " ")
    return _e(
        f"{resource}_not_found",
        404,
        f"No such {label}",
        f"The {label} named does not exist, or it is not one the caller may see.",
        f"Check the id{find}; nothing was written.",
    )


def _unknown(thing: str, label: str, fix: str) -> ErrorCode:
    """``<thing>_unknown``: a field of the request names something that does not exist."""
    return _e(
        f"{thing}_unknown",
        422,
        f"Unknown {label}",
        f"A field of the request names a {label} that does not exist or cannot be used here.",
        fix,
    )


_RETRY = "Reload what you read, then retry the request."
_FIX = "Correct the named field and resend; nothing was written."

# --- generic codes: one per status, for refusals that have no more specific cause -----------

_GENERIC = (
    _e(
        "invalid_request",
        400,
        "The request is malformed",
        "The request cannot be read at all (an unreadable header).",
        "Fix the client; nothing was written.",
    ),
    _e(
        "content_length_invalid",
        400,
        "Content-Length is not a number",
        "The Content-Length header is not a plain decimal number.",
        "Send a correct Content-Length (or let the HTTP library set it).",
    ),
    _e(
        "unauthenticated",
        401,
        "Authentication required",
        "No valid access token was sent, or the sign-in was refused.",
        "Get a token at POST /oauth/token and send Authorization: Bearer <token>.",
    ),
    _e(
        "forbidden",
        403,
        "Not allowed",
        "The caller is known but its role may not do this.",
        "Sign in with a principal entitled to the action.",
    ),
    _e(
        "not_found",
        404,
        "Not found",
        "No such resource or route, or not one the caller may see.",
        "Check the URL and the id.",
    ),
    _e(
        "method_not_allowed",
        405,
        "Method not allowed",
        "The route exists but not with this HTTP method.",
        "Use a method the route documents (see /openapi.json).",
    ),
    _e(
        "conflict",
        409,
        "Conflicts with the current state",
        "The request conflicts with the current state of the resource.",
        "Read the resource again and decide whether to retry.",
    ),
    _e(
        "concurrent_change",
        409,
        "Changed concurrently",
        "Another request changed the same record while this one ran; this one was rolled back.",
        _RETRY,
    ),
    _e(
        "illegal_transition",
        409,
        "Not allowed in the current state",
        "The resource's state does not allow this action (its transition table has no such move).",
        "Read the resource's state; the message names it and the move that was refused.",
    ),
    _e(
        "payload_too_large",
        413,
        "Request body too large",
        "The body is over this route's limit; it was refused before it was read.",
        "Send less per request (split a batch).",
    ),
    _e(
        "unsupported_media_type",
        415,
        "Unsupported media type",
        "The body is in a format (Content-Type) this operation does not take.",
        "Send one of the media types the operation lists in errors[].",
    ),
    _e(
        "validation_failed",
        422,
        "The request has invalid fields",
        "One or more inputs broke a rule; errors[] lists each field and reason (and the row "
        "of a batch).",
        "Correct every listed field and resend; nothing was written.",
    ),
    _e(
        "too_many_requests",
        429,
        "Too many requests",
        "Too many attempts (failed sign-ins from this address or for this account, or a "
        "locked account).",
        "Wait for Retry-After; an administrator can unlock an account.",
    ),
    _e(
        "internal_error",
        500,
        "Internal error",
        "An unexpected failure; it was logged and nothing was written.",
        "Retry later; report it with the time of the request if it persists.",
    ),
    _e(
        "database_unavailable",
        503,
        "Database unavailable",
        "The database cannot be reached.",
        "Retry after Retry-After; nothing was written.",
    ),
    _e(
        "sign_in_unavailable",
        503,
        "Sign-in unavailable",
        "The rate-limit storage cannot be reached, so sign-in fails closed.",
        "Retry after Retry-After.",
    ),
)

# --- authentication and authorisation ----------------------------------------------------

_ACCESS = (
    _e(
        "token_missing",
        401,
        "No access token",
        "The request carries no Authorization: Bearer token.",
        "Get a token at POST /oauth/token and send it.",
    ),
    _e(
        "token_invalid",
        401,
        "Invalid access token",
        "The token is malformed, signed by an unknown key or for another audience.",
        "Get a new token at POST /oauth/token.",
    ),
    _e(
        "token_expired",
        401,
        "Access token expired",
        "The token's lifetime is over.",
        "Get a new token at POST /oauth/token.",
    ),
    _e(
        "token_revoked",
        401,
        "Access token revoked",
        "The token was revoked (signed out, or the password changed).",
        "Sign in again.",
    ),
    _e(
        "principal_inactive",
        401,
        "Account deactivated",
        "The user or API client the token names has been deactivated.",
        "Ask your administrator to reactivate the account.",
    ),
    _e(
        "device_token_missing",
        401,
        "No device token",
        "A telemetry request carries no X-Device-Token header.",
        "Send the device's token in X-Device-Token.",
    ),
    _e(
        "device_token_invalid",
        401,
        "Unknown or retired device",
        "The device token is unknown, or its device is retired.",
        "Provision the device again with a current token.",
    ),
    _e(
        "scope_missing",
        403,
        "Scope missing",
        "The caller's role or client scopes do not include the scope this action needs "
        "(named in the message).",
        "Ask your administrator for a role or client scope that grants it.",
    ),
    _e(
        "operator_only",
        403,
        "Platform operator only",
        "Only the platform operator's people may do this (reference data, banks, platforms).",
        "Ask the platform operator.",
    ),
    _e(
        "bank_staff_only",
        403,
        "Bank staff only",
        "This is done by the staff of a bank, for the bank's own records.",
        "Sign in as staff of the bank concerned.",
    ),
    _e(
        "enterprise_user_only",
        403,
        "Enterprise users only",
        "This is done by a user of the enterprise concerned, for itself.",
        "Sign in as a user of the enterprise.",
    ),
    _e(
        "not_your_record",
        403,
        "Not your organisation's to change",
        "The record belongs to another party (another bank, the lead bank, the buyer, the "
        "owner); only that party may do this.",
        "Ask the party the message names to do it.",
    ),
    _e(
        "consent_refused",
        403,
        "No consent for this use of the data",
        "The enterprise has not granted your bank consent for this data category and "
        "purpose (or the consent lapsed or was revoked).",
        "Ask the enterprise to grant consent to your bank.",
    ),
)

# --- not found (404) -------------------------------------------------------------------------

_NOT_FOUND = (
    _not_found("alert"),
    _not_found("application", "loan application"),
    _not_found("bank"),
    _not_found("book"),
    _not_found("chain"),
    _not_found("champion_model", "champion model", " or register and promote a model"),
    _not_found("checkpoint", "signed checkpoint"),
    _not_found("client_owner", "client owner"),
    _not_found("consent"),
    _not_found("credential"),
    _not_found("credit_line", "credit line"),
    _not_found("line_change", "credit line change"),
    _not_found("attachment", "task attachment (a site visit's photo)"),
    _not_found("device", "IoT device"),
    _not_found("disbursement_file", "disbursement file"),
    _not_found("document", "trade document"),
    _not_found("enterprise"),
    _not_found("enterprise_data", "enterprise data"),
    _not_found("error_code", "error code", " against GET /problems"),
    _not_found("industry", "industry classification"),
    _not_found("invitation", "funder invitation"),
    _not_found("invoice_document", "invoice document"),
    _not_found("journal"),
    _not_found("ledger_entry", "ledger entry"),
    _not_found("loan"),
    _not_found("model", "risk model"),
    _not_found("notification"),
    _not_found("piece", "credential piece"),
    _not_found("platform"),
    _not_found("programme", "credential programme"),
    _not_found("quote", "financing quote"),
    _not_found("region", "administrative region"),
    _not_found("registration", "receivable registration"),
    _not_found("statement_import", "bank statement import"),
    _not_found(
        "strategy_chain",
        "chain in the region's market data",
        " (the region's ranking lists its chains' keys)",
    ),
    _e(
        "strategy_no_market_data",
        404,
        "No market data for the regional analysis",
        "The bank has imported no market data (enterprises, chains, relations) for the "
        "regional chain analysis yet.",
        "Import the bank's market data first (chainfin strategy import, or the demo's seed).",
    ),
    _e(
        "strategy_weights_refused",
        422,
        "Head office's weights refused",
        "A weights file for the chain ranking cannot be used: not JSON of the documented "
        "shape, an unknown criterion, a weight out of range, a pairwise matrix that is not "
        "square, positive and reciprocal, or AHP comparisons whose consistency ratio is 0.1 "
        "or more.",
        "Correct the file as the message says (for AHP, revise the comparisons it names until "
        "CR < 0.1); `chainfin strategy rank --help` shows a template.",
    ),
    _e(
        "strategy_rating_unknown",
        422,
        "Not a rating on the scale",
        "The minimum core rating given is not on the AAA … D scale.",
        "Give a rating such as AA- or A+.",
    ),
    _e(
        "strategy_inputs_unreadable",
        422,
        "Market data files cannot be read",
        "The market data given is not a folder of the documented CSV files.",
        "Give the folder (or the files) listed in docs/strategy.md.",
    ),
    _not_found("task", "due-diligence task"),
    _not_found("trade_case", "trade case"),
    _not_found("user"),
    _not_found("session", "sign-in session"),
    _e(
        "last_enterprise_admin",
        409,
        "The last administrator",
        "The change would leave the enterprise without an active administrator.",
        "Make another colleague an administrator first.",
    ),
    _e(
        "roles_invalid",
        422,
        "Invalid roles",
        "No role was given for a colleague, or one that is not an enterprise's role.",
        "Choose at least one of enterprise_admin and finance_staff.",
    ),
    _e(
        "self_removal_refused",
        409,
        "You cannot remove yourself",
        "An administrator asked to remove their own account.",
        "Ask another administrator of your enterprise to remove you.",
    ),
    # a bank's administration (services/staff_admin.py)
    _e(
        "self_demotion_refused",
        409,
        "You cannot remove your own administrator role",
        "A bank's administrator asked to take their own administrator role away.",
        "Ask another administrator of your bank to change your roles.",
    ),
    _e(
        "self_escalation_refused",
        409,
        "You cannot give yourself a role or credit authority",
        "A bank's administrator asked to add a role or an approval authority to their own account.",
        "Ask another administrator of your bank to grant it.",
    ),
    _e(
        "self_deactivation_refused",
        409,
        "You cannot deactivate yourself",
        "A bank's administrator asked to deactivate their own account.",
        "Ask another administrator of your bank.",
    ),
    _not_found("client", "API client"),
    _e(
        "client_revoked",
        409,
        "API client revoked",
        "The API client was revoked: its secret cannot be rotated.",
        "Create a new client instead.",
    ),
    _e(
        "scope_not_for_bank_clients",
        422,
        "Scope not for a bank's client",
        "A bank's API client was asked for a scope a bank's client may not hold (users:admin, "
        "an enterprise's or the platform operator's scopes).",
        "Choose among the scopes a bank's staff roles grant, users:admin excepted.",
    ),
    _not_found("waybill"),
    _e(
        "entry_not_yet_checkpointed",
        404,
        "Not yet in a signed checkpoint",
        "The ledger entry exists but no signed checkpoint covers it yet, so there is no "
        "inclusion proof.",
        "Retry after the receipt's integrate_by time.",
    ),
)

# --- idempotency and duplicates (409) --------------------------------------------------------

_IDEMPOTENCY = (
    _e(
        "exists_with_different_request",
        409,
        "Already done with a different request",
        "A natural key (payment_ref, source_ref, a fixing's date) names a request already "
        "carried out, and this retry differs from it (the message names the fields).",
        "Resend exactly the first request to get its result, or use a new reference for a "
        "new request.",
    ),
    _e(
        "idempotency_key_reused",
        409,
        "Idempotency-Key used for another request",
        "The Idempotency-Key was already used by this principal for a request with a "
        "different method, path or body.",
        "Use a new key for a new request; resend the first request unchanged to replay it.",
    ),
    _e(
        "idempotency_key_invalid",
        422,
        "Invalid Idempotency-Key",
        "The Idempotency-Key header is empty, too long or not printable.",
        "Send 1 to 200 printable characters (a UUID is a good key).",
    ),
    _e(
        "stored_answer_tampered",
        500,
        "Stored answer fails its integrity check",
        "The first answer stored for an Idempotency-Key no longer matches its digest; it is "
        "not replayed.",
        "Do not resend with a new key (the request was carried out); ask the operator to run "
        "chainfin ledger verify.",
    ),
    _e("username_taken", 409, "Username taken", "Another user has this name.", "Choose another."),
    _e(
        "bank_code_taken",
        409,
        "Bank code taken",
        "Another bank has this code.",
        "Choose another code.",
    ),
    _e(
        "platform_code_taken",
        409,
        "Platform code taken",
        "Another platform has this code.",
        "Choose another code.",
    ),
    _e(
        "chain_name_taken",
        409,
        "Chain name taken",
        "Your bank already has a chain with this name.",
        "Choose another name, or update the existing chain.",
    ),
    _e(
        "product_code_taken",
        409,
        "Product code taken",
        "Your bank already has a loan product with this code.",
        "Choose another code.",
    ),
    _e(
        "price_source_code_taken",
        409,
        "Price source exists",
        "A price source with this code exists already.",
        "Use it, or choose another code.",
    ),
    _e(
        "device_serial_taken",
        409,
        "Device registered already",
        "A device with this serial number is registered already.",
        "Use the registered device, or retire it first.",
    ),
    _e(
        "witness_name_taken",
        409,
        "Witness registered already",
        "A witness with this key name is registered already.",
        "Use another key name.",
    ),
)

# --- lending: lines, limits and the race for them ----------------------------------------

_LIMITS = (
    _reason(
        "line_missing",
        "decline",
        "No credit line",
        "The applicant has no credit line to draw on (a decline reason; a 409 when an "
        "approval finds none).",
        "Ask the bank to open a line first.",
        409,
    ),
    _reason(
        "line_frozen",
        "decline",
        "Credit line frozen",
        "The line is frozen (or closed) and takes no new reservations; as a 409, it was "
        "frozen after the application was read.",
        "Ask the bank why it froze the line; drawn loans run on.",
        409,
    ),
    _reason(
        "line_expired",
        "decline",
        "Credit line expired",
        "The line is past its expiry date.",
        "Ask the bank to open a new line.",
        409,
    ),
    _reason(
        "line_insufficient",
        "decline",
        "Credit line exhausted",
        "The line's available amount is below the amount asked; as a 409 (or a decline "
        "added at approval) another approval took it first.",
        "Ask for less, repay, or ask for the limit to be raised.",
        409,
    ),
    _reason(
        "sublimit_insufficient",
        "decline",
        "Sub-limit exhausted",
        "A sub-limit of the line (for this product or member) cannot take the amount.",
        "Ask for less, or ask for the sub-limit to be raised.",
        409,
    ),
    _reason(
        "core_cap_exceeded",
        "decline",
        "Core enterprise cap exhausted",
        "The bank's exposure cap on the core enterprise's chain cannot take the amount.",
        "Ask for less; the cap frees up as the chain's loans repay.",
        409,
    ),
    _reason(
        "group_cap_exceeded",
        "decline",
        "Group cap exhausted",
        "The bank's exposure cap on the applicant's group cannot take the amount.",
        "Ask for less; the cap frees up as the group's loans repay.",
        409,
    ),
    _e(
        "limit_exceeded",
        409,
        "Limit exhausted",
        "A limit cannot take the amount (the specific codes name which one).",
        "Ask for less, or ask for the limit to be raised.",
    ),
    _e(
        "programme_limit_insufficient",
        409,
        "Programme limit exhausted",
        "The credential programme's limit cannot take the amount.",
        "Issue less, or ask the funders to raise the programme's limit.",
    ),
    _e(
        "sublimit_below_usage",
        409,
        "Sub-limit below usage",
        "The new sub-limit is below what the line already holds for it.",
        "Set the sub-limit at or above today's usage.",
    ),
    _e(
        "line_limit_below_usage",
        409,
        "Limit below usage",
        "The new limit of a line is below what it already holds (reserved and drawn).",
        "Set the limit at or above today's usage, then lower it as loans repay.",
    ),
    _e(
        "line_change_kind_unknown",
        422,
        "Unknown kind of limit change",
        "A proposed change of limits is not one of open, limit, sublimit, freeze, unfreeze, cap.",
        "Propose one of the kinds listed in the message.",
    ),
    _e(
        "cap_below_exposure",
        409,
        "Cap below exposure",
        "The new exposure cap is below the exposure already taken.",
        "Set the cap at or above today's exposure, then reduce it as loans repay.",
    ),
    _e(
        "credit_line_unknown",
        422,
        "Unknown credit line",
        "The line named is not one of this bank's lines.",
        "Name a line of the bank you apply to, or leave it out to use the applicant's own.",
    ),
    _e(
        "credit_line_not_applicable",
        422,
        "Line not for this applicant",
        "The line named is not the applicant's, and no sub-limit on it names the applicant.",
        "Name the applicant's own line.",
    ),
    _e(
        "not_a_customer",
        422,
        "Not a customer of the bank",
        "The enterprise named is not a customer of the acting bank.",
        "Link the enterprise as a customer first.",
    ),
)

# --- lending: applications, loans, servicing ------------------------------------------------

_LENDING = (
    _e(
        "application_not_referred",
        409,
        "Application not referred",
        "Only a referred application is reviewed; this one is decided or withdrawn.",
        "Read the application's status.",
    ),
    _e(
        "application_not_withdrawable",
        409,
        "Application cannot be withdrawn",
        "The application is past the point of withdrawal (disbursed, declined or withdrawn).",
        "Read the application's status.",
    ),
    _e(
        "approval_refused",
        409,
        "Approval refused",
        "An approval rule refused the approval.",
        "Read the message.",
    ),
    _e(
        "four_eyes_required",
        409,
        "Checker must be another person",
        "The checker of an application is the same person as its maker.",
        "Ask a colleague with credit authority to check it.",
    ),
    _e(
        "authority_insufficient",
        409,
        "Credit authority too low",
        "The approver's credit authority level is below what the amount needs.",
        "Refer it up to an approver with the authority.",
    ),
    _e(
        "due_diligence_open",
        409,
        "Due diligence not finished",
        "A due-diligence task of the application is still open.",
        "Complete the site visit or financial analysis first.",
    ),
    _e(
        "condition_already_met",
        409,
        "Condition already met",
        "The approval condition is marked met already.",
        "Nothing to do.",
    ),
    _e(
        "loan_not_active",
        409,
        "Loan not active",
        "The loan's status does not allow this (it is settled, cancelled or not yet disbursed).",
        "Read the loan's status.",
    ),
    _e(
        "loan_not_cancellable",
        409,
        "Loan cannot be cancelled",
        "The loan was disbursed or is past cancellation.",
        "Repay or restructure it instead.",
    ),
    _e(
        "loan_has_amount_due",
        409,
        "Amount due first",
        "An amount is due on the loan; it is repaid before any prepayment.",
        "Repay what is due, then prepay.",
    ),
    _e(
        "loan_overdue",
        409,
        "Loan overdue",
        "The loan is past due; an overdue loan is restructured, not extended.",
        "Bring the loan current, or restructure it.",
    ),
    _e(
        "loan_already_extended",
        409,
        "Loan extended already",
        "A loan is extended once.",
        "Restructure it instead.",
    ),
    _e(
        "loan_without_held_goods",
        409,
        "No goods held for the loan",
        "The loan is not a dealer loan with goods held by the core enterprise.",
        "Nothing to release.",
    ),
    _e(
        "goods_release_exceeds_repaid",
        409,
        "More goods than repaid",
        "Goods are released as the dealer repays; the value asked is above what the "
        "repayments cover.",
        "Release at most the value the message names, or repay first.",
    ),
    _e(
        "buyback_not_offered",
        409,
        "No buy-back guarantee",
        "The loan's product has no buy-back guarantee.",
        "Pursue the borrower instead.",
    ),
    _e(
        "buyback_too_early",
        409,
        "Buy-back not yet callable",
        "The loan is not yet as many days past due as the product requires.",
        "Call it on the day the message names.",
    ),
    _e(
        "task_not_open",
        409,
        "Task not open",
        "The due-diligence task is completed or cancelled.",
        "Read the task's state.",
    ),
    _e(
        "nothing_to_disburse",
        422,
        "Nothing to disburse",
        "No approved loan of those named is ready to disburse.",
        "Name approved, undisbursed loans.",
    ),
    _e(
        "date_in_past",
        422,
        "Date in the past",
        "An application is decided today; the date given is earlier.",
        "Leave the date out, or give today's.",
    ),
    _e(
        "underlying_kind_unknown",
        422,
        "Unknown underlying kind",
        "The kind of underlying named is not one the platform knows.",
        "Use a kind the message lists.",
    ),
    _e(
        "review_action_invalid",
        422,
        "Unknown review action",
        "A review step is approve or decline.",
        "Send approve or decline.",
    ),
    _e(
        "condition_index_out_of_range",
        422,
        "No such condition",
        "The condition number is not one of the application's conditions.",
        "Use a number from 1 to the count of conditions.",
    ),
    _e(
        "extension_out_of_range",
        422,
        "Extension too long",
        "The extension asked is outside what the loan's term allows.",
        "Ask for the months the message allows.",
    ),
    _e(
        "authority_level_invalid",
        422,
        "Invalid authority level",
        "A credit authority level is 1 to 9.",
        _FIX,
    ),
    _e(
        "task_kind_mismatch",
        422,
        "Wrong kind of task",
        "The result sent is for another kind of due-diligence task.",
        "Send the result this task's kind takes.",
    ),
    _e(
        "product_code_invalid",
        422,
        "Invalid product code",
        "A product code is 1 to 40 characters.",
        _FIX,
    ),
    _unknown("product", "loan product", "Name an active product of the bank you apply to."),
    _e(
        "product_config_invalid",
        422,
        "Invalid product definition",
        "The product definition is not an object of the product's settings.",
        "Send the product as a JSON object (see the product templates).",
    ),
    _unknown("product_kind", "product kind", "Use a product kind the message lists."),
    _e(
        "lpr_fixing_missing",
        422,
        "No LPR fixing on record",
        "Pricing needs the loan prime rate fixing on or before the date, and there is none.",
        "Ask the operator to record the LPR fixing (chainfin rates lpr set).",
    ),
    _e(
        "rate_too_fine",
        422,
        "Rate finer than a basis point",
        "Rates are kept in whole basis points.",
        "Round the rate to two decimal places of a percent.",
    ),
    _e(
        "price_source_code_invalid",
        422,
        "Invalid price source code",
        "A price source code is A-Z, 0-9, _ . - (up to 40), starting with a letter or digit.",
        _FIX,
    ),
    _unknown("price_source", "price source", "Name an existing platform price source."),
)

# --- credentials (supply-chain credentials, pieces, programmes) -----------------------------

_CREDENTIALS = (
    _e(
        "credential_not_live",
        409,
        "Credential not live",
        "The credential is settled, cancelled or otherwise no longer active.",
        "Read the credential's status.",
    ),
    _e(
        "piece_already_answered",
        409,
        "Piece already answered",
        "A piece passed on is withdrawn by its sender only while it is offered: the receiver "
        "has accepted or rejected it.",
        "Read the piece's status; an accepted piece is the receiver's.",
    ),
    _e(
        "credential_already_accepted",
        409,
        "Credential already accepted",
        "The issuer cancels a credential only before its first acceptance.",
        "Settle it instead.",
    ),
    _e(
        "piece_not_held",
        409,
        "Piece not held",
        "Only a held piece (not offered, financed or settled) can do this.",
        "Read the piece's status.",
    ),
    _e(
        "quote_expired",
        409,
        "Quote expired",
        "The financing quote is past its validity.",
        "Ask for a new quote.",
    ),
    _e(
        "invitation_not_open",
        409,
        "Invitation not open",
        "The invitation was accepted, declined or withdrawn already.",
        "Read the invitation's status.",
    ),
    _e(
        "invitation_awaits_core_approval",
        409,
        "Waiting for the core enterprise",
        "The core enterprise approves an invitation before the invited bank accepts it.",
        "Wait for the core enterprise's approval, then accept.",
    ),
    _e(
        "invitation_already_open",
        409,
        "Invitation open already",
        "The bank already has an open invitation to this programme.",
        "Wait for that invitation to be answered.",
    ),
    _e(
        "bank_already_funds",
        409,
        "Bank funds the programme already",
        "The bank is already a funder of the programme.",
        "Nothing to do.",
    ),
    _e(
        "documents_already_confirmed",
        409,
        "Documents back another confirmation",
        "The documents named already back another debtor confirmation.",
        "Confirm other documents.",
    ),
    _e(
        "self_confirmation",
        422,
        "Enterprise owes itself",
        "The supplier named is the confirming enterprise itself.",
        "Name the supplier you owe.",
    ),
    _e(
        "confirmation_basis_ambiguous",
        422,
        "Two bases given",
        "A confirmation rests on confirmed documents or on a matched trade case, not both.",
        "Send one of them.",
    ),
    _unknown("trade_case", "trade case", "Name a trade case with the supplier."),
    _e(
        "trade_case_not_matched",
        422,
        "Trade case not matched",
        "The trade case's documents do not match; it cannot back a confirmation.",
        "Resolve the mismatches the message lists first.",
    ),
    _e(
        "trade_case_without_invoice",
        422,
        "Trade case without invoice",
        "The trade case has no invoice to confirm.",
        "Wait for the invoice.",
    ),
    _e(
        "amount_exceeds_evidence",
        422,
        "Amount above the evidence",
        "The amount is above what the documents evidence.",
        "Confirm at most the amount the message names.",
    ),
    _e(
        "confirmation_required",
        422,
        "No confirmation named",
        "A credential is issued against at least one debtor confirmation.",
        "Name the confirmations.",
    ),
    _e(
        "amount_exceeds_confirmed",
        422,
        "Amount above the confirmed payables",
        "The amount is above the confirmed payables not yet issued against.",
        "Issue at most the amount the message names.",
    ),
    _e(
        "piece_amount_invalid",
        422,
        "Invalid piece amount",
        "A piece is in the programme's currency and at least its minimum piece.",
        "Send an amount at or above the minimum in the programme's currency.",
    ),
    _e(
        "transfer_to_self",
        422,
        "Transfer to the holder",
        "The recipient named is the piece's holder itself.",
        "Name another recipient.",
    ),
    _e(
        "recipient_not_supplier",
        422,
        "Recipient not a supplier",
        "A piece is transferred to a supplier of the holder (a supply relation or trade on "
        "record), and the recipient is none.",
        "Transfer to a supplier of record.",
    ),
    _e(
        "bank_not_funder",
        422,
        "Bank does not fund the programme",
        "The bank named does not fund the credential's programme.",
        "Ask one of the programme's funders for a quote.",
    ),
    _e(
        "amount_exceeds_due",
        422,
        "More than is due",
        "The payment is more than is due on the credential.",
        "Pay at most the amount the message names.",
    ),
    _e(
        "partial_redemption_early",
        422,
        "Early redemption must be in full",
        "Before the payment date a credential is redeemed in full or not at all.",
        "Pay the full amount, or pay on or after the payment date.",
    ),
    _e(
        "tenor_cap_out_of_range",
        422,
        "Tenor cap out of range",
        "The programme's tenor cap is outside 1 to the platform's hard cap.",
        _FIX,
    ),
    _e(
        "maturity_before_issue",
        422,
        "Maturity before issue",
        "A credential matures after it is issued.",
        "Give a later maturity date.",
    ),
    _e(
        "tenor_too_long",
        422,
        "Beyond the tenor cap",
        "The maturity is beyond the programme's tenor cap.",
        "Give a maturity on or before the latest date the message names.",
    ),
    _e(
        "carve_amount_invalid",
        422,
        "Invalid split amount",
        "A part carved out of a piece is above zero and below the piece's amount.",
        _FIX,
    ),
    # supplier onboarding: a holder invites a supplier not yet on the platform
    _not_found("supplier_invitation", "supplier invitation"),
    _e(
        "supplier_invitation_expired",
        410,
        "Invitation expired",
        "The registration link is past its expiry; it no longer works.",
        "Ask the firm that invited you for a new link.",
    ),
    _e(
        "supplier_invitation_closed",
        410,
        "Invitation used or withdrawn",
        "The registration link was used already, or the inviting firm withdrew it.",
        "Sign in if your firm registered; otherwise ask for a new link.",
    ),
    _e(
        "supplier_invitation_already_open",
        409,
        "Invitation open already",
        "You invited this firm already and its link still works.",
        "Send the firm the link you have, or cancel that invitation first.",
    ),
    _e(
        "enterprise_has_users",
        409,
        "Firm already on the platform",
        "The firm named has its own users on the platform; it is not invited again.",
        "Pass credentials to it directly once it is your supplier of record.",
    ),
    _e(
        "uscc_invalid",
        422,
        "Invalid USCC",
        "The unified social credit code is not 18 characters of its alphabet with the right "
        "check character (GB 32100-2015).",
        "Type the code as printed on the business licence.",
    ),
    _e(
        "uscc_mismatch",
        422,
        "Not the invited firm's USCC",
        "The unified social credit code typed is not the one of the firm invited.",
        "Type your firm's own code; the link works only for the firm invited.",
    ),
    _e(
        "password_mismatch",
        422,
        "Passwords differ",
        "The password and its repetition are not the same.",
        "Type the same password twice.",
    ),
)

# --- inputs shared by many operations (422) ------------------------------------------------

_INPUTS = (
    _e(
        "invalid_money",
        422,
        "Invalid amount",
        "An amount is not a decimal string in the currency's minor units, or the currency is "
        "not supported.",
        'Send amounts as decimal strings like "1234.56" with a supported currency.',
    ),
    _reason(
        "currency_mismatch",
        "decline",
        "Currency mismatch",
        "The amount is in another currency than the line, product, piece or credential.",
        "Send the amount in the currency the message names.",
        422,
    ),
    _e(
        "amount_not_positive",
        422,
        "Amount must be positive",
        "The amount is zero or negative.",
        "Send a positive amount.",
    ),
    _e(
        "line_amount_invalid",
        422,
        "Invalid funding line",
        "A funder's line in a programme is a positive amount in the programme's currency.",
        _FIX,
    ),
    _e(
        "note_required",
        422,
        "Note required",
        "This action records why it was taken; the note or reason is empty.",
        "Say why in the note.",
    ),
    _e(
        "cursor_invalid",
        422,
        "Invalid cursor",
        "The cursor is not one this API issued.",
        "Pass next_cursor from the previous page unchanged, or start without a cursor.",
    ),
    _e(
        "limit_out_of_range",
        422,
        "Page size out of range",
        "The limit of a page is 1 to 500.",
        "Send a limit from 1 to 500.",
    ),
    _e(
        "state_unknown",
        422,
        "Unknown state",
        "A state filter names a state the resource does not have.",
        "Use one of the states the message lists.",
    ),
    _e(
        "dimension_unknown",
        422,
        "Unknown grouping",
        "The grouping asked (by=) is not one of those the message lists.",
        "Use one of the listed values.",
    ),
    _e(
        "weeks_out_of_range",
        422,
        "Weeks out of range",
        "The number of weeks ahead is outside the range the message names.",
        _FIX,
    ),
    _e(
        "months_out_of_range",
        422,
        "Months out of range",
        "The number of months is outside the range the message names.",
        _FIX,
    ),
    _e(
        "url_invalid",
        422,
        "Invalid URL",
        "The path or query string has invalid characters or is too long.",
        "Fix the URL; errors[] names the part.",
    ),
    _e(
        "json_invalid",
        422,
        "Invalid JSON",
        "The body is not valid JSON.",
        "Send valid UTF-8 JSON.",
    ),
    _e(
        "json_too_deep",
        422,
        "JSON nested too deep",
        "The JSON body is nested deeper than the platform reads.",
        "Flatten the structure.",
    ),
    _e(
        "body_invalid",
        422,
        "Body of the wrong shape",
        "The body parses but is not the object this operation takes.",
        "Send the shape the message describes (see /openapi.json).",
    ),
    _e(
        "text_encoding_invalid",
        422,
        "Not UTF-8 text",
        "A text upload (CSV) is not UTF-8.",
        "Save the file as UTF-8 and resend.",
    ),
    _e(
        "file_format_unknown",
        422,
        "Unknown file format",
        "The file's format cannot be told from its name.",
        "Use a .csv, .json or .jsonl file, or name the format.",
    ),
    _e(
        "file_too_long",
        422,
        "File too long",
        "The text is longer than the platform reads for this kind of file.",
        "Split the file.",
    ),
    _e(
        "file_unreadable",
        422,
        "File unreadable",
        "The file cannot be read or is not the format expected (the message says why).",
        "Check the path and the file's content.",
    ),
    _e(
        "file_unwritable",
        422,
        "File cannot be written",
        "The output file cannot be written.",
        "Choose a writable path.",
    ),
    _e(
        "date_invalid",
        422,
        "Invalid date",
        "A date is not in the form YYYY-MM-DD.",
        "Send the date as YYYY-MM-DD.",
    ),
    _e(
        "period_invalid",
        422,
        "Invalid period",
        "A period ends on or before it starts.",
        "Give an end after the start.",
    ),
    _e(
        "day_count_convention_invalid",
        422,
        "Unknown convention",
        "The business-day convention is not one the calendar knows.",
        "Use a convention the message lists.",
    ),
    _e(
        "option_choice_required",
        422,
        "Choose the options",
        "A command needs one of two options (or a pair), and got none or both.",
        "Give the options the message names.",
    ),
    _unknown("bank", "bank", "Name the bank by its code (chainfin registry banks lists them)."),
    _unknown("enterprise", "enterprise", "Name a registered enterprise by its USCC or id."),
    _unknown("user", "user", "Name a user of the bank."),
    _e(
        "user_deactivated",
        422,
        "User deactivated",
        "The user named is deactivated.",
        "Act as an active user.",
    ),
    _e(
        "financing_bank_required",
        422,
        "Financing bank required",
        "A creditor registering a receivable names the bank financing it.",
        "Name the code of a bank you are a customer of.",
    ),
    _unknown("account", "account", "Use an account of the book's chart."),
    _e(
        "book_invalid",
        422,
        "Invalid book",
        "A book is named by a bank code or 'platform'.",
        "Name a bank code or 'platform'.",
    ),
    _e(
        "reversal_not_reversible",
        422,
        "A reversal is not reversed",
        "The journal named is itself a reversal.",
        "Post a new journal instead.",
    ),
    _e(
        "password_too_short",
        422,
        "Password too short",
        "The password is shorter than the platform's minimum.",
        "Choose a longer password.",
    ),
    _e(
        "scope_required",
        422,
        "No scope asked",
        "An API client needs at least one scope.",
        "Name the scopes the client needs.",
    ),
    _unknown("scope", "scope", "Use scopes the message lists."),
    _e(
        "scope_reserved",
        422,
        "Scope reserved",
        "platform:* scopes belong to the platform operator's people.",
        "Ask for scopes of your organisation.",
    ),
    _e(
        "scope_not_granted",
        422,
        "Scope not granted",
        "A token was asked for scopes the client was not granted.",
        "Ask only for the client's scopes.",
    ),
    _e(
        "bank_role_missing",
        422,
        "Not a bank",
        "The enterprise named does not have the bank role.",
        "Give the enterprise the bank role in the registry first.",
    ),
)

# --- consent, documents, receivables, registry --------------------------------------------

_DATA = (
    _e(
        "consent_terms_invalid",
        422,
        "Invalid consent terms",
        "A consent names at least one data category and purpose, from those the message lists.",
        _FIX,
    ),
    _e(
        "consent_period_invalid",
        422,
        "Invalid consent period",
        "A consent ends in the future, after it starts, within the longest term allowed.",
        _FIX,
    ),
    _e(
        "document_not_confirmable",
        422,
        "Document not confirmable",
        "Only goods receipts and invoices are confirmed by the buyer.",
        "Confirm the receipt or the invoice.",
    ),
    _e(
        "registration_kind_unknown",
        422,
        "Unknown registration kind",
        "A receivable registration is a pledge or a transfer.",
        "Send pledge or transfer.",
    ),
    _e(
        "invoice_document_required",
        422,
        "Invoice document required",
        "A receivable is registered against an accepted invoice document.",
        "Name an accepted invoice document.",
    ),
    _reason(
        "duplicate_financing",
        "decline",
        "Already financed",
        "The receivable or collateral is already registered to a financing (at this bank or "
        "another); it backs one financing at a time.",
        "Finance another underlying.",
        409,
    ),
    _e(
        "core_has_no_trade",
        422,
        "No trade for the core",
        "The core enterprise has no invoiced trade in the last year to build its network from.",
        "Import the chain's invoices first.",
    ),
    _e(
        "stored_document_invalid",
        500,
        "Stored document no longer parses",
        "A document on file no longer parses under the current schema.",
        "Ask the operator; the message names the document.",
    ),
    _e(
        "reconciliation_input_invalid",
        422,
        "Invalid reconciliation input",
        "The statement or the expected payments contradict each other (the message says how).",
        "Fix the loan reference or the statement named.",
    ),
    _e(
        "match_config_invalid",
        422,
        "Invalid matching settings",
        "A trade-matching tolerance is out of range.",
        _FIX,
    ),
    _e(
        "fraud_config_invalid",
        422,
        "Invalid fraud-check settings",
        "A fraud-check setting has the wrong type or range.",
        _FIX,
    ),
    _e(
        "size_class_undetermined",
        422,
        "Size class undetermined",
        "The enterprise size rules give no class for the data given.",
        "Provide the indicator the message names, or record no class.",
    ),
    _e(
        "unbalanced_journal",
        422,
        "Unbalanced journal",
        "A journal's debits and credits differ, a posting is zero, or it has one posting.",
        "Post balanced journals of at least two non-zero postings.",
    ),
    _e(
        "no_working_day_schedule",
        422,
        "No working-day schedule",
        "The year has no official schedule and the holiday data does not project it.",
        "Ask the operator to load the year's calendar.",
    ),
)

# --- IoT, ledger, risk, pricing ----------------------------------------------------------

_OTHER = (
    _e(
        "device_not_active",
        409,
        "Device not active",
        "The device is retired or suspended.",
        "Register a new device.",
    ),
    _e(
        "item_already_measured",
        409,
        "Item measured already",
        "Another device of the same kind measures this pledged item.",
        "Retire that device first.",
    ),
    _e(
        "device_kind_mismatch",
        422,
        "Wrong kind of device",
        "A weight or RFID device follows a pledge; a tracker follows a shipment.",
        "Bind the device to what its kind measures.",
    ),
    _unknown("pledged_item", "pledged item", "Name an item the loan pledges."),
    _e(
        "unit_mismatch",
        422,
        "Units do not match",
        "The device measures in a unit that cannot be converted to the item's.",
        "Use a device that measures in a compatible unit.",
    ),
    _e(
        "document_kind_mismatch",
        422,
        "Wrong kind of document",
        "The document named is of another kind than the operation takes.",
        "Name a document of the kind the message names.",
    ),
    _e(
        "batch_too_large",
        422,
        "Batch too large",
        "The telemetry batch has more messages or bytes than one request takes.",
        "Send smaller batches.",
    ),
    _unknown("scenario", "scenario", "Use stock-drop, route-deviation or all."),
    _e(
        "waypoints_invalid",
        422,
        "Invalid waypoints",
        "A waypoint is not LAT,LON.",
        "Send waypoints as LAT,LON pairs.",
    ),
    _e(
        "already_cosigned",
        409,
        "Already cosigned",
        "The witness already cosigned this tree size or a later one.",
        "Cosign a newer checkpoint.",
    ),
    _e(
        "witness_key_invalid",
        422,
        "Invalid witness key",
        "The verifier key is malformed or not a cosignature/v1 key.",
        "Send the witness's cosignature/v1 verifier key.",
    ),
    _unknown("witness", "witness", "Register the witness first."),
    _e(
        "cosignature_invalid",
        422,
        "Invalid cosignature",
        "The signature line is malformed or does not verify for the checkpoint.",
        "Send the witness's cosignature of this checkpoint.",
    ),
    _e(
        "tree_range_invalid",
        422,
        "Invalid tree sizes",
        "A consistency proof needs 1 <= first <= second <= the tree size.",
        "Ask for sizes within the published tree.",
    ),
    _e(
        "ledger_not_ready",
        503,
        "Ledger not ready",
        "The ledger is not initialised, or tree nodes are missing from storage.",
        "Run chainfin db upgrade; if nodes are missing, run chainfin ledger verify.",
    ),
    _e(
        "model_refused",
        422,
        "Model refused",
        "A risk model's stored bytes or card do not match its recorded digest, or it is not "
        "a model of this format; it is not loaded.",
        "Register the model again from its trained files.",
    ),
    _e(
        "model_name_invalid",
        422,
        "Invalid model name",
        "A model name is 1-80 letters, digits, '.', '_' or '-', starting alphanumeric.",
        _FIX,
    ),
    _e(
        "model_already_champion",
        409,
        "Champion already",
        "The model version is the champion already.",
        "Nothing to do.",
    ),
    _e(
        "early_warning_policy_invalid",
        422,
        "Invalid early-warning policy",
        "An early-warning policy definition is malformed (errors[] names the field).",
        _FIX,
    ),
    _e(
        "pricing_policy_invalid",
        422,
        "Invalid pricing policy",
        "A pricing policy is not a JSON object of its settings.",
        _FIX,
    ),
    _e(
        "statement_file_invalid",
        422,
        "Invalid financial statements",
        "The financial statements are not CSV or JSON of item: value as the message says.",
        _FIX,
    ),
    _e(
        "lpr_file_invalid",
        422,
        "Invalid LPR file",
        "The LPR CSV's header is wrong.",
        "Send the columns the message names.",
    ),
    _e(
        "tolerance_invalid",
        422,
        "Invalid tolerance",
        "A tolerance is a non-negative amount or a share from 0 to 1.",
        _FIX,
    ),
    _e("days_invalid", 422, "Invalid days", "A day count is a whole number above 0.", _FIX),
    _unknown("rating", "rating", "Use a rating the pricing grid has."),
    _e(
        "face_amount_invalid",
        422,
        "Invalid face amount",
        "The face amount is not one the pricing takes.",
        _FIX,
    ),
    _e(
        "payment_date_invalid",
        422,
        "Invalid payment date",
        "The payment date is outside what the pricing grid covers.",
        _FIX,
    ),
    _e(
        "shock_empty",
        422,
        "No firm shocked",
        "A contagion run names at least one firm to shock.",
        "Name a firm to shock.",
    ),
    _e(
        "shock_invalid",
        422,
        "Invalid shock",
        "A shock vector has one fraction in [0, 1] per firm of the network.",
        _FIX,
    ),
    _e(
        "network_file_invalid",
        422,
        "Invalid network data",
        "A node's value in the network data is invalid (the message says why).",
        _FIX,
    ),
)

# --- the command line only (never an HTTP answer) -------------------------------------------

_CLI = (
    _e(
        "database_missing",
        None,
        "Database missing",
        "The database a command reads does not exist (a SQLite file that is not there).",
        "Run chainfin db upgrade, or set CHAINFIN_DATABASE_URL to the database you mean.",
    ),
    _e(
        "database_not_migrated",
        None,
        "Database not migrated",
        "The database is at an older (or no) migration than the code expects.",
        "Run chainfin db upgrade.",
    ),
    _e(
        "database_error",
        None,
        "Database refused the command",
        "The database is locked, unreachable or out of space.",
        "Read the message; retry when the database is available.",
    ),
)

# --- credit decision reasons (domain/decision.py, in its order of precedence) -------------

_DECLINE = "decline"
_REFER = "refer"

_DECISION = (
    _reason(
        "identity_unregistered",
        _DECLINE,
        "Applicant not registered",
        "The applicant is not in the registry with a valid unified social credit code.",
        "Register the enterprise first.",
    ),
    _reason(
        "consent_missing",
        _DECLINE,
        "Consent missing",
        "No consent for credit assessment covers the data categories listed.",
        "Grant the bank consent for credit assessment, then apply again.",
    ),
    _reason(
        "amount_below_minimum",
        _DECLINE,
        "Below the product's minimum",
        "The amount is below the product's minimum.",
        "Ask for at least the minimum.",
    ),
    _reason(
        "amount_above_maximum",
        _DECLINE,
        "Above the product's maximum",
        "The amount is above the product's maximum.",
        "Ask for at most the maximum.",
    ),
    _reason(
        "tenor_out_of_range",
        _DECLINE,
        "Tenor out of range",
        "The tenor is outside the product's range.",
        "Ask for a tenor the product offers.",
    ),
    _reason(
        "method_not_offered",
        _DECLINE,
        "Repayment method not offered",
        "The product does not offer the repayment method.",
        "Choose an offered method.",
    ),
    _reason(
        "underlying_not_accepted",
        _DECLINE,
        "Underlying not accepted",
        "No underlying was named, or the product does not accept its kind.",
        "Name an underlying of a kind the product accepts.",
    ),
    _reason(
        "underlying_missing",
        _DECLINE,
        "Underlying not found",
        "The underlying named was not found or does not belong to the applicant (a 409 when "
        "it is gone by approval).",
        "Name the applicant's own underlying.",
        409,
    ),
    _reason(
        "trade_disputed",
        _DECLINE,
        "Trade disputed",
        "The trade behind the underlying is disputed.",
        "Resolve the dispute first.",
    ),
    _reason(
        "advance_rate_exceeded",
        _DECLINE,
        "Above the advance rate",
        "The amount exceeds the advance rate cap of the underlying's value.",
        "Ask for at most the amount the message names.",
    ),
    _reason(
        "ltv_exceeded",
        _DECLINE,
        "Above the loan-to-value cap",
        "The amount exceeds the loan-to-value cap of the underlying's value.",
        "Ask for at most the amount the message names.",
    ),
    _reason(
        "matures_after_underlying",
        _DECLINE,
        "Matures after the underlying",
        "The loan would mature after the underlying is paid.",
        "Ask for a shorter tenor.",
    ),
    _reason(
        "guarantee_missing",
        _DECLINE,
        "Guarantee missing",
        "The product requires the core enterprise's guarantee, and there is none.",
        "Ask the core enterprise to guarantee the line.",
    ),
    _reason(
        "overdue_elsewhere",
        _DECLINE,
        "Overdue loans",
        "The applicant has overdue loans at this bank.",
        "Repay the overdue loans first.",
    ),
    _reason(
        "score_below_minimum",
        _DECLINE,
        "Score below minimum",
        "The interim score is below the product's minimum.",
        "Improve the score's weak characteristics (the score's reasons name them).",
    ),
    _reason(
        "trade_unverified",
        _REFER,
        "Trade not verified",
        "The trade behind the underlying is not verified yet; a person reviews it.",
        "Wait for the review, or have the trade confirmed.",
    ),
    _reason(
        "score_below_auto",
        _REFER,
        "Score below automatic approval",
        "The score is below the minimum for automatic approval; a person reviews it.",
        "Wait for the review.",
    ),
    _reason(
        "new_customer",
        _REFER,
        "New customer",
        "A first-time customer needs a site visit.",
        "Arrange the site visit with the bank.",
    ),
    _reason(
        "site_visit_threshold",
        _REFER,
        "Site visit needed",
        "The amount is above the product's site-visit threshold.",
        "Arrange the site visit with the bank.",
    ),
    _reason(
        "financial_analysis_threshold",
        _REFER,
        "Financial analysis needed",
        "The amount is above the product's financial-analysis threshold.",
        "Send financial statements for analysis.",
    ),
    _reason(
        "risk_flags",
        _REFER,
        "Open risk findings",
        "Risk findings about the applicant are open; a person reviews them.",
        "Wait for the review.",
    ),
    _reason(
        "above_auto_limit",
        _REFER,
        "Above the automatic approval limit",
        "The amount is above the automatic approval limit (or automatic approval is off).",
        "Wait for the review.",
    ),
)


def _index(groups: Iterable[tuple[ErrorCode, ...]]) -> Mapping[str, ErrorCode]:
    out: dict[str, ErrorCode] = {}
    for group in groups:
        for entry in group:
            if entry.code in out:
                raise ValueError(f"error code {entry.code!r} is listed twice")
            if not entry.code.replace("_", "").isalnum() or entry.code != entry.code.lower():
                raise ValueError(f"error code {entry.code!r} is not snake_case")
            out[entry.code] = entry
    return MappingProxyType(dict(sorted(out.items())))


CODES: Mapping[str, ErrorCode] = _index(
    (
        _GENERIC,
        _ACCESS,
        _NOT_FOUND,
        _IDEMPOTENCY,
        _LIMITS,
        _LENDING,
        _CREDENTIALS,
        _INPUTS,
        _DATA,
        _OTHER,
        _CLI,
        _DECISION,
    )
)
"""Every code, by name (sorted)."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reference_markdown() -> str:
    """``docs/errors.md``: every code by HTTP status, then the decision-only reasons."""
    out = [
        "# Error codes",
        "",
        "<!-- Generated by `python -m chainfin.domain.error_codes > docs/errors.md`;",
        "     edit src/chainfin/domain/error_codes.py instead. -->",
        "",
        "Every refusal carries one stable snake_case `code`. The API answers RFC 9457",
        "`application/problem+json` with `type` `/problems/<code>` and the same `code`;",
        "`GET /problems` lists this catalogue and `GET /problems/<code>` gives one entry. The",
        "CLI prints the message and what to do. A credit decision's reasons use the same",
        "codes: a decline for an exhausted line and the 409 of an approval that lost the race",
        "for it both say `line_insufficient`.",
        "",
        "`validation_failed` is kept for input with several problems at once: its `errors[]`",
        "names each field and reason (and the row of a batch). A refusal with one cause has",
        "its own code.",
    ]
    statuses = sorted({e.status for e in CODES.values() if e.status is not None})
    for status in statuses:
        out += ["", f"## {status}", "", "| code | title | when | what to do | decision |"]
        out.append("| --- | --- | --- | --- | --- |")
        for e in CODES.values():
            if e.status == status:
                cells = (f"`{e.code}`", e.title, e.when, e.action, e.decision or "")
                out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    sections = (
        ("Decision reasons only", "Reasons a credit decision gives that are never an error."),
        ("Command line only", "Errors of the `chainfin` command that no API operation gives."),
    )
    for (heading, intro), decision in zip(sections, (True, False), strict=True):
        out += ["", f"## {heading}", "", intro, ""]
        out += [
            "| code | title | when | what to do | decision |",
            "| --- | --- | --- | --- | --- |",
        ]
        for e in CODES.values():
            if e.status is None and (e.decision is not None) == decision:
                cells = (f"`{e.code}`", e.title, e.when, e.action, e.decision or "")
                out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover - the generator's entry point
    import sys

    sys.stdout.write(reference_markdown())

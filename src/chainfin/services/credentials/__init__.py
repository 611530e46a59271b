"""Digital payable credentials, end to end: programmes, debtor confirmation (确权), issue,
accept/reject, split, transfer down the tiers, quote, finance, settle, overdue.

Every state change here is one transaction: the new state, its ledger entry, its journals
and the audit event commit together or not at all. State moves with conditional updates
(``UPDATE … WHERE status = 'held' AND holder_id = :me``) so that of two concurrent requests on
the same piece exactly one wins and the other gets a conflict, on SQLite and PostgreSQL
alike; programme utilisation moves the same way, guarded by the limit in the WHERE clause and
again by a CHECK constraint.
"""

from chainfin.services.credentials.financing import (
    accrue,
    finance,
    financed_minor,
    open_quotes,
    quote,
    quote_for,
)
from chainfin.services.credentials.invitations import (
    InvitationFilter,
    InvitationView,
    accept_invitation,
    approve_invitation,
    decline_invitation,
    invitation_for,
    invitation_view,
    invitation_views,
    invitations,
    invite,
)
from chainfin.services.credentials.payables import ConfirmationFilter, confirm, confirmations
from chainfin.services.credentials.pieces import (
    CredentialFilter,
    PieceFilter,
    Transfer,
    accept,
    cancel,
    credential_condition,
    get,
    held_currency,
    issue,
    list_credentials,
    list_pieces,
    piece_condition,
    piece_for,
    recompute_payment_dates,
    reject,
    split,
    transfer,
    tree,
    withdraw,
)
from chainfin.services.credentials.programmes import (
    ProgrammeFilter,
    create_programme,
    programme_for,
    programmes,
)
from chainfin.services.credentials.settlement import (
    AmountDue,
    alerts,
    amount_due,
    mark_overdue,
    settle,
)

__all__ = [
    "AmountDue",
    "ConfirmationFilter",
    "CredentialFilter",
    "InvitationFilter",
    "InvitationView",
    "PieceFilter",
    "ProgrammeFilter",
    "Transfer",
    "accept",
    "accept_invitation",
    "accrue",
    "alerts",
    "amount_due",
    "approve_invitation",
    "cancel",
    "confirm",
    "confirmations",
    "create_programme",
    "credential_condition",
    "decline_invitation",
    "finance",
    "financed_minor",
    "get",
    "held_currency",
    "invitation_for",
    "invitation_view",
    "invitation_views",
    "invitations",
    "invite",
    "issue",
    "list_credentials",
    "list_pieces",
    "mark_overdue",
    "open_quotes",
    "piece_condition",
    "piece_for",
    "programme_for",
    "programmes",
    "quote",
    "quote_for",
    "recompute_payment_dates",
    "reject",
    "settle",
    "split",
    "transfer",
    "tree",
    "withdraw",
]

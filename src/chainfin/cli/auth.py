"""``chainfin auth …`` (token signing keys) and the sign-in side of ``chainfin users …``
(unlock, passwd); see docs/security.md."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chainfin.cli.common import (
    Col,
    JsonOpt,
    err,
    fail,
    group,
    operator_session,
    out,
    print_json,
    print_page,
    table,
)
from chainfin.domain.errors import ChainfinError

app = group("Access tokens: signing keys")


@app.command("rotate-key")
def rotate_key_cmd(
    revoke: Annotated[
        bool,
        typer.Option(
            "--revoke",
            help="withdraw the old keys at once (a leaked key): every token they signed is "
            "refused from now on",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Retire the active token signing key and start a new one. Tokens signed by the old
    key keep working until they expire (CHAINFIN_TOKEN_TTL_SECONDS), unless --revoke."""
    from chainfin.config import get_settings
    from chainfin.services import token_keys

    ttl = get_settings().token_ttl_seconds
    with operator_session() as session:
        kid = token_keys.rotate_token_key(session, token_ttl_seconds=ttl, revoke=revoke)
        pruned = token_keys.prune_revoked(session)
    if as_json:
        print_json({"kid": kid, "revoked": revoke, "pruned": pruned})
        return
    old = "withdrawn at once" if revoke else f"verify for {ttl} s more"
    out.print(f"new token signing key {kid}; the old keys {old}")
    out.print(f"{pruned} expired revocations pruned")


@app.command("keys")
def keys_cmd(as_json: JsonOpt = False) -> None:
    """The token signing keys: active, retired (still verifying until …) or withdrawn."""
    from chainfin.services import token_keys

    with operator_session() as session:
        rows = token_keys.list_keys(session)
    keys = [
        {
            "kid": r.kid,
            "active": r.active,
            "created_at": r.created_at.isoformat(),
            "retired_at": r.retired_at.isoformat() if r.retired_at else None,
            "verify_until": r.verify_until.isoformat() if r.verify_until else None,
        }
        for r in rows
    ]
    if as_json:
        print_page(keys)
        return
    table(
        "token signing keys (UTC)",
        [Col("kid", "id"), Col("state"), Col("created", "time"), Col("verifies until", "time")],
        [
            [k["kid"], "active" if k["active"] else "retired", k["created_at"], k["verify_until"]]
            for k in keys
        ],
        empty="no token signing keys yet: the server makes one when it starts",
    )


def users_activate(
    username: Annotated[str, typer.Argument(help="the user name")], as_json: JsonOpt = False
) -> None:
    """Let a user who waits for verification sign in (a firm's first administrator
    registered through another firm's invitation, once its bank has confirmed who they are)."""
    from chainfin.domain.access import SYSTEM
    from chainfin.services import auth

    try:
        with operator_session() as session:
            user = auth.activate_user(session, SYSTEM, username)
            body = {"id": user.id, "username": user.username, "active": user.active}
    except ChainfinError as exc:
        fail(exc, as_json)
    if as_json:
        print_json(body)
    else:
        out.print(f"activated {body['username']} ({body['id']}): they can sign in now")


def users_unlock(
    username: Annotated[str, typer.Argument(help="the user name")], as_json: JsonOpt = False
) -> None:
    """End a user's sign-in lockout and reset the failure count."""
    from chainfin.adapters.ratelimit import RateLimiter, RateLimitUnavailable
    from chainfin.config import get_settings
    from chainfin.domain.access import SYSTEM
    from chainfin.services import auth, signin

    try:
        with operator_session() as session:
            user = auth.unlock_user(session, SYSTEM, username)
            body: dict[str, Any] = {"id": user.id, "username": user.username, "unlocked": True}
    except ChainfinError as exc:
        fail(exc, as_json)
    if not as_json:
        out.print(f"unlocked {body['username']} ({body['id']})")
    settings = get_settings()
    limiter = RateLimiter(settings.rate_limit_storage, namespace=settings.rate_limit_namespace)
    if not limiter.shared:
        if as_json:
            print_json({**body, "throttles_cleared": False})
        else:
            out.print(
                "note: throttles kept in memory:// live in the server; its per-account window "
                f"({settings.signin_account_limit}) ends by itself"
            )
        return
    policy = signin.Policy.of(
        address=settings.signin_address_limit,
        account=settings.signin_account_limit,
        lockout_failures=settings.signin_lockout_failures,
        lockout_minutes=settings.signin_lockout_minutes,
    )
    try:
        signin.forget(limiter, policy, username)
    except RateLimitUnavailable as exc:
        err.print(f"[yellow]warning[/yellow]: could not clear the throttles: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print_json({**body, "throttles_cleared": True})
    else:
        out.print(f"cleared the throttles on {username} in {limiter.uri.split('://')[0]}")


def users_passwd(
    username: Annotated[str, typer.Argument(help="the user name")],
    password: Annotated[
        str | None, typer.Option(envvar="CHAINFIN_NEW_PASSWORD", help="prompted when omitted")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a user's password. Every token issued to the user before now stops working, and
    a lockout ends."""
    from chainfin.domain.access import SYSTEM
    from chainfin.services import auth

    if password is None:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = auth.hash_password(password)  # argon2 before the transaction
        with operator_session() as session:
            user = auth.change_password(session, SYSTEM, username, password_hash)
            body = {"id": user.id, "username": user.username, "tokens_revoked": True}
    except ChainfinError as exc:
        fail(exc, as_json)
    if as_json:
        print_json(body)
    else:
        out.print(f"password changed for {body['username']} ({body['id']}); earlier tokens revoked")

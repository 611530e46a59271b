"""``chainfin auth …`` (token signing keys) and the sign-in side of ``chainfin users …``
(unlock, passwd); see docs/security.md."""

from __future__ import annotations

from typing import Annotated

import typer

from chainfin.adapters.ratelimit import RateLimiter, RateLimitUnavailable
from chainfin.cli.common import err, fail, operator_session, out, print_json
from chainfin.config import get_settings
from chainfin.domain.access import SYSTEM
from chainfin.domain.errors import ChainfinError
from chainfin.services import auth, signin, token_keys

app = typer.Typer(help="Access tokens: signing keys", no_args_is_help=True)


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
) -> None:
    """Retire the active token signing key and start a new one. Tokens signed by the old
    key keep working until they expire (CHAINFIN_TOKEN_TTL_SECONDS), unless --revoke."""
    ttl = get_settings().token_ttl_seconds
    with operator_session() as session:
        kid = token_keys.rotate_token_key(session, token_ttl_seconds=ttl, revoke=revoke)
        pruned = token_keys.prune_revoked(session)
    old = "withdrawn at once" if revoke else f"verify for {ttl} s more"
    out.print(f"new token signing key {kid}; the old keys {old}")
    out.print(f"{pruned} expired revocations pruned")


@app.command("keys")
def keys_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """The token signing keys: active, retired (still verifying until …) or withdrawn."""
    with operator_session() as session:
        rows = token_keys.list_keys(session)
    if as_json:
        print_json(
            [
                {
                    "kid": r.kid,
                    "active": r.active,
                    "created_at": r.created_at.isoformat(),
                    "retired_at": r.retired_at.isoformat() if r.retired_at else None,
                    "verify_until": r.verify_until.isoformat() if r.verify_until else None,
                }
                for r in rows
            ]
        )
        return
    for r in rows:
        state = "active" if r.active else f"retired, verifies until {r.verify_until}"
        out.print(f"{r.kid}  created {r.created_at:%Y-%m-%d %H:%M:%S}Z  {state}")


def users_unlock(username: Annotated[str, typer.Argument(help="the user name")]) -> None:
    """End a user's sign-in lockout and reset the failure count."""
    try:
        with operator_session() as session:
            user = auth.unlock_user(session, SYSTEM, username)
            done = f"unlocked {user.username} ({user.id})"
    except ChainfinError as exc:
        fail(exc)
    out.print(done)
    settings = get_settings()
    limiter = RateLimiter(settings.rate_limit_storage, namespace=settings.rate_limit_namespace)
    if not limiter.shared:
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
    out.print(f"cleared the throttles on {username} in {limiter.uri.split('://')[0]}")


def users_passwd(
    username: Annotated[str, typer.Argument(help="the user name")],
    password: Annotated[
        str | None, typer.Option(envvar="CHAINFIN_NEW_PASSWORD", help="prompted when omitted")
    ] = None,
) -> None:
    """Set a user's password. Every token issued to the user before now stops working, and
    a lockout ends."""
    if password is None:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = auth.hash_password(password)  # argon2 before the transaction
        with operator_session() as session:
            user = auth.change_password(session, SYSTEM, username, password_hash)
            done = f"password changed for {user.username} ({user.id}); earlier tokens revoked"
    except ChainfinError as exc:
        fail(exc)
    out.print(done)

"""A bank's model registry: versioned scorecards, one champion per name with challengers
beside it, scoring with the champion (and the challenger side by side), and population
stability monitoring over time.

A version holds the pickle exactly as :meth:`TrainedModel.save` writes it, its SHA-256 and
the training population's scores. Pickles run code when loaded: a model is only ever loaded
from this registry, after its bytes were checked against the stored digest — which is on the
verifiable log, so rewriting both the bytes and the digest shows up in ``ledger verify``.

Stability is the usual population stability index of the scores against the training
population (cut at its deciles): below 0.1 stable, 0.1 to 0.25 watch, above 0.25 shift —
which raises a ``model_drift`` alert. Per characteristic, the PSI of its bins' shares against
the training counts in the card, and the characteristic stability index Σ (a − e) · points
(how many points the shift moves the average score). The log carries no floats, so PSI is
stored in units of 1e-4 and the CSI in hundredths of a point.
"""

from __future__ import annotations

import hashlib
import math
import pickle
import re
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import ModelMonitoring, RiskModel
from chainfin.domain.access import Principal, Scope, StaffRole
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.risk.scorecard import (
    FORMAT,
    PSI_FLOOR,
    ModelRefused,
    Scored,
    TrainedModel,
    TrainOptions,
    psi,
    train,
)
from chainfin.services import audit, ledger, scoping, states
from chainfin.services.alerts import raise_alert
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of
from chainfin.services.pagination import DEFAULT_LIMIT, Page, check_period, paginate

Rows = Sequence[Mapping[str, object]]
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
STABLE_BELOW = 0.1  # PSI below: stable
SHIFT_ABOVE = 0.25  # PSI above: the population shifted (between the two: watch)


def _model_change(row: RiskModel) -> Change:
    return Change("risk_model", row_of(row))


def _bank_of(actor: Principal, scope: Scope) -> str:
    actor.require(scope)
    return scoping.bank_of(actor, "a model registry is a bank's: bank staff only")


def _check_name(name: str) -> str:
    name = name.strip()
    if not NAME.match(name):
        raise ValidationFailed(
            [FieldError("name", "1-80 letters, digits, '.', '_' or '-', starting alphanumeric")],
            code="model_name_invalid",
        )
    return name


def _as_int(x: float) -> int:
    return round(x)


# ---------------------------------------------------------------- bytes in, bytes out


def serialise(model: TrainedModel) -> tuple[bytes, dict[str, Any]]:
    """The model's own save format (pickle + card recording its SHA-256), as bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.pkl"
        model.save(path)
        blob = path.read_bytes()
    return blob, model.card


def load(row: RiskModel) -> TrainedModel:
    """The registered model, unpickled only once its bytes match the stored SHA-256."""
    blob = bytes(row.model_bytes)
    actual = hashlib.sha256(blob).hexdigest()
    if actual != row.digest:
        raise ModelRefused(
            f"model {row.id} ({row.name} v{row.version}) has SHA-256 {actual}, the registry "
            f"records {row.digest}: the stored bytes were changed; not loaded"
        )
    state = pickle.loads(blob)  # noqa: S301 - digest-checked, the platform's own registry
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ModelRefused(f"model {row.id} is not a {FORMAT} model")
    card = {
        **state["card"],
        "model_file": {"name": "model.pkl", "sha256": row.digest, "bytes": len(blob)},
    }
    return TrainedModel(state["scorecard"], card)


def _scores(
    model: TrainedModel, rows: Rows, columns: Sequence[str] | None, first_row: int
) -> list[Scored]:
    return model.score(rows, columns=columns, first_row=first_row)


# ---------------------------------------------------------------- registering


def register(
    session: Session,
    actor: Principal,
    name: str,
    model: TrainedModel,
    *,
    population: Rows,
    columns: Sequence[str] | None = None,
    first_row: int = 1,
) -> RiskModel:
    """A new version (the next number for the bank and name) as a challenger. ``population``:
    the rows the model was trained on — their scores are the baseline stability is
    measured against."""
    bank_id = _bank_of(actor, Scope.LOANS_WRITE)
    name = _check_name(name)
    scored = _scores(model, population, columns, first_row)
    counts = Counter(_as_int(s.score) for s in scored)
    blob, card = serialise(model)
    last = session.scalar(
        select(func.max(RiskModel.version)).where(
            RiskModel.bank_id == bank_id, RiskModel.name == name
        )
    )
    row = RiskModel(
        id=new_id("model"),
        bank_id=bank_id,
        name=name,
        version=(last or 0) + 1,
        status=states.initial(RiskModel),
        model_bytes=blob,
        digest=hashlib.sha256(blob).hexdigest(),
        card=card,
        baseline=[[score, n] for score, n in sorted(counts.items())],
        created_by=actor.label,
        created_at=utcnow(),
        promoted_by=None,
        promoted_at=None,
        retired_at=None,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"{name} v{row.version} was registered concurrently; retry", code="concurrent_change"
        ) from None
    ledger.one(session, actor, "model.registered", _model_change(row))
    audit.record(
        session,
        actor,
        "model.register",
        "risk_model",
        row.id,
        {"name": name, "version": row.version, "digest": row.digest},
    )
    return row


def train_and_register(
    session: Session,
    actor: Principal,
    name: str,
    rows: Rows,
    *,
    target: str,
    bad: object | None = None,
    options: TrainOptions | None = None,
    columns: Sequence[str] | None = None,
    first_row: int = 1,
) -> RiskModel:
    """Train a scorecard on ``rows`` and register it as the next challenger."""
    _bank_of(actor, Scope.LOANS_WRITE)
    _check_name(name)
    model = train(rows, target, bad, options, columns=columns, first_row=first_row)
    return register(
        session, actor, name, model, population=rows, columns=columns, first_row=first_row
    )


# ---------------------------------------------------------------- reading


def get(session: Session, actor: Principal, model_id: str) -> RiskModel:
    """A version of the actor's bank (another bank's is not found)."""
    _bank_of(actor, Scope.LOANS_READ)
    return scoping.bank_record(session, actor, RiskModel, model_id, "model")


def models(
    session: Session,
    actor: Principal,
    *,
    name: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[RiskModel]:
    """The bank's versions in the order they were registered."""
    _bank_of(actor, Scope.LOANS_READ)
    query = select(RiskModel).where(scoping.by_bank(actor, RiskModel.bank_id))
    if name is not None:
        query = query.where(RiskModel.name == name)
    if status is not None:
        query = query.where(RiskModel.status == status)
    return paginate(session, query, RiskModel.id, cursor=cursor, limit=limit)


def _with_status(session: Session, bank_id: str, name: str, status: str) -> RiskModel | None:
    """The champion, or the latest challenger, of a name."""
    return session.scalar(
        select(RiskModel)
        .where(RiskModel.bank_id == bank_id, RiskModel.name == name, RiskModel.status == status)
        .order_by(RiskModel.version.desc())
        .limit(1)
    )


# ---------------------------------------------------------------- champion and challenger


def _set_status(session: Session, row: RiskModel, event: str, values: dict[str, Any]) -> None:
    """Move ``row`` by ``event``, only if it is still in the status it was read in."""
    if not states.swap(session, row, event, **values):
        raise Conflict(
            f"model {row.id} changed concurrently; reload and retry", code="concurrent_change"
        )
    session.refresh(row)


def promote(session: Session, actor: Principal, model_id: str) -> RiskModel:
    """The model becomes its name's champion; the previous champion is retired. A retired
    version may be promoted again (a rollback). One champion per bank and name: a partial
    unique index refuses a second one, so concurrent promotions cannot leave two."""
    row = get(session, actor, model_id)
    actor.require(Scope.LOANS_WRITE)
    return _promote(session, actor, row)


def promote_as_risk_officer(session: Session, actor: Principal, model_id: str) -> RiskModel:
    """:func:`promote`, by a risk officer of the model's bank (the workbench's model
    registry): choosing the champion is a risk decision, and the risk officer's role carries
    ``loans:approve`` rather than the ``loans:write`` :func:`promote` asks of the API's
    callers. Anyone else is refused as :func:`promote` refuses them."""
    row = get(session, actor, model_id)
    if not (actor.has(Scope.LOANS_APPROVE) and StaffRole.RISK_OFFICER in actor.roles):
        actor.require(Scope.LOANS_WRITE)
    return _promote(session, actor, row)


def _promote(session: Session, actor: Principal, row: RiskModel) -> RiskModel:
    if row.status == "champion":
        raise Conflict(
            f"{row.name} v{row.version} is the champion already", code="model_already_champion"
        )
    now = utcnow()
    changes = []
    previous = _with_status(session, row.bank_id, row.name, "champion")
    try:
        if previous is not None:
            _set_status(session, previous, "retire", {"retired_at": now})
            changes.append(_model_change(previous))
        _set_status(
            session,
            row,
            "promote",
            {"promoted_by": actor.label, "promoted_at": now},
        )
    except IntegrityError:
        raise Conflict(
            f"another version of {row.name} was promoted concurrently", code="concurrent_change"
        ) from None
    changes.append(_model_change(row))
    ledger.one(session, actor, "model.promoted", *changes)
    audit.record(
        session,
        actor,
        "model.promote",
        "risk_model",
        row.id,
        {"name": row.name, "version": row.version, "retired": previous.id if previous else None},
    )
    return row


def _scored_out(s: Scored) -> dict[str, Any]:
    return {"score": s.score, "pd": s.pd, "reasons": [r.as_dict() for r in s.reasons]}


def score(
    session: Session,
    actor: Principal,
    name: str,
    rows: Rows,
    *,
    compare: bool = False,
    columns: Sequence[str] | None = None,
    first_row: int = 1,
) -> dict[str, Any]:
    """Score rows with the name's champion; ``compare``: with its latest challenger too, side
    by side (``challenger`` is null when there is none)."""
    bank_id = _bank_of(actor, Scope.LOANS_READ)
    champion = _with_status(session, bank_id, name, "champion")
    if champion is None:
        raise NotFound(
            f"no champion model named {name!r}: register one and promote it",
            code="champion_model_not_found",
        )
    challenger = _with_status(session, bank_id, name, "challenger") if compare else None
    first = _scores(load(champion), rows, columns, first_row)
    second = _scores(load(challenger), rows, columns, first_row) if challenger else None
    out_rows = []
    for i, s in enumerate(first):
        entry: dict[str, Any] = {"row": s.row, "champion": _scored_out(s)}
        if compare:
            entry["challenger"] = _scored_out(second[i]) if second else None
        out_rows.append(entry)
    return {
        "name": name,
        "champion": {"id": champion.id, "version": champion.version},
        "challenger": (
            {"id": challenger.id, "version": challenger.version} if challenger else None
        ),
        "rows": out_rows,
    }


# ---------------------------------------------------------------- stability


def stability_status(value: float) -> str:
    if value < STABLE_BELOW:
        return "stable"
    return "shift" if value > SHIFT_ABOVE else "watch"


def _characteristics(model: TrainedModel, rows: Rows) -> list[dict[str, Any]]:
    """Per characteristic: PSI of its bins' shares against the training counts in the card,
    and the CSI Σ (a − e) · points."""
    table = model.card["points_table"]
    out = []
    for var in model._variables:
        entries = {e["bin_id"]: e for e in table if e["variable"] == var.name}
        total = sum(e["count"] for e in entries.values()) or 1
        missing = len(var.points) - 1
        seen = Counter(missing if (k := var.index(r.get(var.name))) == -1 else k for r in rows)
        value = csi = 0.0
        for k, entry in entries.items():
            e = max(entry["count"] / total, PSI_FLOOR)
            a = max(seen.get(k, 0) / len(rows), PSI_FLOOR)
            value += (a - e) * math.log(a / e)
            csi += (seen.get(k, 0) / len(rows) - entry["count"] / total) * entry["points"]
        out.append(
            {"variable": var.name, "psi_e4": _as_int(value * 10_000), "csi_e2": _as_int(csi * 100)}
        )
    return out


def monitor(
    session: Session,
    actor: Principal,
    model_id: str,
    rows: Rows,
    *,
    as_of: date,
    columns: Sequence[str] | None = None,
    first_row: int = 1,
) -> ModelMonitoring:
    """Score a new population with the model and record its stability against the training
    population; a shift (PSI > 0.25) raises a high ``model_drift`` alert."""
    row = get(session, actor, model_id)
    actor.require(Scope.LOANS_WRITE)
    model = load(row)
    scored = _scores(model, rows, columns, first_row)
    baseline = np.repeat(
        np.array([s for s, _ in row.baseline], dtype=np.float64),
        np.array([n for _, n in row.baseline], dtype=np.int64),
    )
    value = psi(baseline, [_as_int(s.score) for s in scored])
    status = stability_status(value)
    alert = None
    if status == "shift":
        alert = raise_alert(
            session,
            actor,
            kind="model_drift",
            severity="high",
            subject_kind="risk_model",
            subject_id=row.id,
            bank_id=row.bank_id,
            enterprise_id=None,
            message=(
                f"{row.name} v{row.version}: PSI {value:.3f} on {len(scored)} rows as of "
                f"{as_of.isoformat()} (> {SHIFT_ABOVE}): the population shifted"
            ),
            rule=f"psi>{SHIFT_ABOVE}",
        )
    check = ModelMonitoring(
        id=new_id("monitoring"),
        model_id=row.id,
        bank_id=row.bank_id,
        as_of=as_of,
        count=len(scored),
        psi_e4=_as_int(value * 10_000),
        status=status,
        variables=_characteristics(model, rows),
        alert_id=alert.id if alert else None,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(check)
    session.flush()
    ledger.one(session, actor, "model.monitored", Change("model_monitoring", row_of(check)))
    audit.record(
        session,
        actor,
        "model.monitor",
        "risk_model",
        row.id,
        {"monitoring": check.id, "psi_e4": check.psi_e4, "status": status},
    )
    return check


def history(
    session: Session,
    actor: Principal,
    model_id: str,
    *,
    since: date | None = None,
    until: date | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[ModelMonitoring]:
    """The model's stability checks in the order they were recorded; ``since``/``until``:
    their as-of dates, both inclusive."""
    row = get(session, actor, model_id)
    check_period(since, until)
    query = select(ModelMonitoring).where(ModelMonitoring.model_id == row.id)
    if since is not None:
        query = query.where(ModelMonitoring.as_of >= since)
    if until is not None:
        query = query.where(ModelMonitoring.as_of <= until)
    return paginate(session, query, ModelMonitoring.id, cursor=cursor, limit=limit)

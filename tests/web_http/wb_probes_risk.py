"""The risk officer's pages in the pages' tenancy matrix (test_page_tenancy.py): bank A's
scorecard (a challenger another bank must not promote), a line of bank A to the core whose
limit only bank A's dashboard shows, and bank A's chain around the core (the contagion page
offers only the bank's own chains' cores). Their name, amount and chain name are the marks
bank B's pages must never show."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import Principal, StaffRole
from chainfin.domain.money import Money
from chainfin.risk.scorecard import TrainOptions
from chainfin.services import chains, models
from chainfin.services.lending import lines
from credit_world import uscc
from lending_world import TODAY

MODEL = "bka-victim-scorecard"
LINE = "813579.24"
CHAIN = "星湖风险监测链（受测）"
MARKS = (MODEL, "813,579.24", "813579.24", CHAIN)
DATA = Path(__file__).parents[1] / "risk" / "data" / "applications.csv"

PROBES = {
    ("POST", "/risk/models/{model_id}/promote"): lambda v: (
        {"model_id": v.ids["wb_risk_model"]},
        {},
    ),
}


def extend(factory: sessionmaker[Session], world: Any, ids: dict[str, str]) -> None:
    staff = Principal.staff(
        world.staff_ids["rm"],
        bank_id=world.credit.banks["BKA"],
        roles=[StaffRole.RELATIONSHIP_MANAGER, StaffRole.ADMIN],
    )
    with DATA.open(newline="") as f:
        data = list(csv.DictReader(f))[:200]
    with transaction(factory) as s:
        chains.create_chain(
            s, staff, name=CHAIN, core_usccs=[uscc(3)], industry_code="C38", region_code="320505"
        )
        lines.open_line(
            s,
            staff,
            obligor=uscc(3),
            limit=Money.parse(LINE),
            starts_on=TODAY - timedelta(days=10),
            expires_on=TODAY + timedelta(days=100),
        )
        model = models.train_and_register(
            s, staff, MODEL, data, target="default", columns=list(data[0]),
            options=TrainOptions(features=("debt_ratio", "days_late_12m"), seed=7),
        )  # fmt: skip
        ids["wb_risk_model"] = model.id

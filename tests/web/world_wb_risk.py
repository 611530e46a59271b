"""The risk officer's own objects (tests/web/test_wb_risk.py), added to the portal world:

- bank A's chain around the core, 「星湖动力电池产业链（风险监测）」, for the contagion page;
- a second line of bank A to the core, ¥8,642,097.53, expiring before the world's line (so
  no application lands on it), with ¥1,357,913.57 of it held by a reservation: the
  dashboard's limits table shows it sanctioned, used and available (¥7,284,183.96);
- the scorecard 「sme-receivables」 in bank A's registry: version 1, the champion, checked
  for stability on three month-ends, and version 2, a challenger checked twice, which the
  journey promotes.

Ids in ``world.extra["wb_risk"]``."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from portal_world import PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import Principal, StaffRole
from chainfin.domain.money import Money
from chainfin.risk.scorecard import TrainOptions
from chainfin.services import chains, models
from chainfin.services.lending import lines
from worldclock import WORLD_DAY

CHAIN = "星湖动力电池产业链（风险监测）"
LINE = "8642097.53"
HELD = "1357913.57"
AVAILABLE = "7284183.96"
MODEL = "sme-receivables"
DATA = Path(__file__).parents[1] / "risk" / "data" / "applications.csv"
FEATURES = ("debt_ratio", "days_late_12m", "years_in_business", "sector")
CHECKS_V1 = (date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31))
CHECKS_V2 = (date(2026, 9, 30), date(2026, 10, 31))


def rows() -> list[dict[str, Any]]:
    with DATA.open(newline="") as f:
        return list(csv.DictReader(f))


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    bank_a = world.lending.credit.banks["BKA"]
    staff = Principal.staff(
        world.lending.staff_ids["rm"],
        bank_id=bank_a,
        roles=[StaffRole.RELATIONSHIP_MANAGER, StaffRole.ADMIN],
    )
    data = rows()
    columns = list(data[0])
    with transaction(factory) as s:
        chain = chains.create_chain(
            s,
            staff,
            name=CHAIN,
            core_usccs=[world.usccs("core")],
            industry_code="C38",
            region_code="320505",
        )
        line = lines.open_line(
            s,
            staff,
            obligor=world.usccs("core"),
            limit=Money.parse(LINE),
            starts_on=WORLD_DAY - timedelta(days=30),
            expires_on=WORLD_DAY + timedelta(days=200),
        )
        # the line alone (no sub-limit, no cap of anyone else's world is touched)
        only_line = lines.Availability(
            line=line,
            line_available_minor=line.limit_minor,
            sublimits=(),
            sublimit_available_minor=None,
            core_caps=(),
            core_cap_available_minor=None,
            group_caps=(),
            group_cap_available_minor=None,
        )
        lines.reserve(
            s,
            staff,
            only_line,
            application_id="wb-risk-hold",
            amount=Money.parse(HELD),
            on=WORLD_DAY,
        )
        ids = {"chain_id": chain.chain.id, "line_id": line.id}
    with transaction(factory) as s:
        v1 = models.train_and_register(
            s, staff, MODEL, data, target="default",
            options=TrainOptions(features=FEATURES, seed=1), columns=columns,
        )  # fmt: skip
        v2 = models.train_and_register(
            s, staff, MODEL, data, target="default",
            options=TrainOptions(features=FEATURES[:3], seed=2), columns=columns,
        )  # fmt: skip
        models.promote(s, staff, v1.id)
        for n, on in enumerate(CHECKS_V1):
            sample = data[n * 100 : n * 100 + 250]
            models.monitor(s, staff, v1.id, sample, as_of=on, columns=columns)
        for n, on in enumerate(CHECKS_V2):
            sample = data[200 + n * 100 : 200 + n * 100 + 250]
            models.monitor(s, staff, v2.id, sample, as_of=on, columns=columns)
        ids |= {"v1": v1.id, "v2": v2.id}
    world.extra["wb_risk"] = ids

"""``chainfin risk exposure``: a bank's exposure and its concentration."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from chainfin.cli.common import out
from chainfin.cli.lending import bank_actor, run_as
from chainfin.cli.risk import risk_app
from chainfin.services import portfolio


def _show(body: dict[str, Any]) -> None:
    table = Table(title=f"exposure by {body['by']} ({body['currency']})")
    for column in ("key", "name", "exposure", "limit", "share", "items"):
        table.add_column(column, justify="right" if column in ("exposure", "limit") else "left")
    for row in body["rows"]:
        limit = row["limit"]["amount"] if row["limit"] else ""
        table.add_row(
            row["key"],
            row["label"],
            row["exposure"]["amount"],
            limit,
            f"{float(row['share']):.1%}",
            str(row["items"]),
        )
    out.print(table)
    out.print(
        f"total {body['total']['amount']} {body['currency']}; HHI {body['hhi_points']} "
        f"({body['concentration']}); top-5 share {float(body['top5_share']):.1%}"
    )


@risk_app.command("exposure")
def exposure_cmd(
    bank: Annotated[str, typer.Option(help="the bank (code)")],
    by: Annotated[str, typer.Option(help=", ".join(portfolio.DIMENSIONS))] = "core",
    currency: Annotated[str, typer.Option()] = "CNY",
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Exposure and limits by core enterprise, chain, industry, region or obligor, with the
    Herfindahl-Hirschman index and the top-5 share."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: portfolio.exposure(s, a, by=by, currency=currency).to_dict(),
        _show,
    )

"""``chainfin strategy …``: head office's regional chain strategy from a terminal — import a
bank's market data, then chain maps, measures, the ranking, lead lists and the committee
report of a region (``--region yrd|gba|jjj`` or a GB/T 2260 province or prefecture code).

Every analysis reads one of two sources, exactly one:

* ``--bank CODE``: the database at CHAINFIN_DATABASE_URL, acting as that bank's strategy
  staff — its stored market data (``chainfin strategy import``) and its live position
  (customers, exposures, alerts);
* ``--data DIR``: the CSV files in DIR alone (docs/strategy.md lists them), no database —
  the analysis on a bank's own data, position included (customers.csv, exposures.csv,
  alerts.csv).

``--json`` prints the resource the API answers (:mod:`chainfin.resources.strategy`). A
usage error (a region that is not one, a weights file that cannot be used, both sources or
neither) exits 2 with the precise reason; a refusal of the analysis (no market data, a
chain not in the region, a bad input file) exits 1."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.markup import escape

from chainfin.cli.common import (
    Col,
    JsonOpt,
    err,
    fail,
    group,
    grouped,
    jsonable,
    out,
    print_json,
    table,
)
from chainfin.domain.errors import ChainfinError, FieldError, NotFound, ValidationFailed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from chainfin.domain.access import Principal
    from chainfin.domain.strategy.regions import StrategyRegion
    from chainfin.domain.strategy.results import Ranking
    from chainfin.risk.strategy.graph import RegionView
    from chainfin.risk.strategy.ranking import Gates, WeightInput

# Every import above is light: the database, the services, the analytics (numpy, pymcdm)
# and the PDF renderer are imported inside the commands that need them
# (tests/test_cli_start.py).

app = group("Regional chain strategy: chain maps, measures, ranking, leads, report")

RegionOpt = Annotated[
    str,
    typer.Option(
        "--region",
        help="yrd (长三角), gba (大湾区), jjj (京津冀), or a GB/T 2260 province or prefecture "
        "code such as 320000 or 320500",
    ),
]
BankOpt = Annotated[
    str | None,
    typer.Option(
        "--bank", help="the bank (code): its stored market data and live position, in the database"
    ),
]
DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        file_okay=False,
        help="a folder of the bank's CSV files: the analysis on them alone, no database",
    ),
]
WeightsOpt = Annotated[
    Path | None,
    typer.Option(
        "--weights",
        dir_okay=False,
        help='head office\'s weights (JSON): {"direct": {...}} or {"pairwise": {...}}',
    ),
]
BlendOpt = Annotated[
    float | None,
    typer.Option(
        min=0.0, max=1.0, help="share of head office's weights in the final ones (default 0.5)"
    ),
]
DrawsOpt = Annotated[
    int, typer.Option(min=1, max=2000, help="sensitivity draws with ±20 % weight noise")
]
SeedOpt = Annotated[int, typer.Option(help="seed of the sensitivity draws")]
MinRatingOpt = Annotated[
    str | None,
    typer.Option(
        "--min-core-rating", help="exclude chains whose best core is rated below, e.g. AA-"
    ),
]
RestrictOpt = Annotated[
    list[str] | None,
    typer.Option("--restrict-kind", help="exclude chains of this kind (repeat for several)"),
]
DRAWS, SEED = 500, 17  # risk.strategy.ranking.rank's defaults, spelled out for --help


# ---------------------------------------------------------------------------- sources


def usage(message: str) -> NoReturn:
    """A usage error: one line on stderr, exit status 2 (as Click's own usage errors)."""
    err.print(f"[red]error[/red]: {escape(message)}")
    raise typer.Exit(2)


def _region(text: str) -> StrategyRegion:
    from chainfin.domain.strategy.regions import UnknownRegion, parse_region

    try:
        return parse_region(text)
    except UnknownRegion as exc:
        usage(f"--region: {exc}")


def _one_source(bank: str | None, data: Path | None) -> None:
    if (bank is None) == (data is None):
        usage(
            "give exactly one source: --bank CODE (the bank's data in the database) or "
            "--data DIR (a folder of CSV files)"
        )


def read_folder(folder: Path) -> dict[str, bytes]:
    """The ``.csv`` files in ``folder`` by name (other files are ignored); ValidationFailed
    when it holds none or one cannot be read."""
    if not folder.is_dir():
        raise ValidationFailed(
            [FieldError(str(folder), "is not a folder")], code="strategy_inputs_unreadable"
        )
    files: dict[str, bytes] = {}
    problems: list[FieldError] = []
    for path in sorted(folder.iterdir()):
        if not (path.is_file() and path.suffix.lower() == ".csv"):
            continue
        try:
            files[path.name] = path.read_bytes()
        except OSError as exc:
            problems.append(FieldError(path.name, f"cannot be read ({exc.strerror or exc})"))
    if problems:
        raise ValidationFailed(problems)
    if not files:
        raise ValidationFailed(
            [FieldError(str(folder), "holds no .csv files: give enterprises.csv, chains.csv, …")],
            code="strategy_inputs_unreadable",
        )
    return files


def _view(data: Path, region: StrategyRegion) -> RegionView:
    from chainfin.domain import clock
    from chainfin.domain.strategy.csv_input import parse_inputs
    from chainfin.risk.strategy.graph import RegionView

    dataset = parse_inputs(read_folder(data), bank=data.resolve().name)
    return RegionView(dataset, region, today=clock.today())


@dataclass(frozen=True)
class Source:
    bank: str | None
    data: Path | None
    region: StrategyRegion


def _source(region: str, bank: str | None, data: Path | None) -> Source:
    _one_source(bank, data)
    return Source(bank, data, _region(region))


def analyse(
    src: Source,
    as_json: bool,
    on_db: Callable[[Session, Principal], Any],
    on_files: Callable[[RegionView], Any],
    show: Callable[[Any], None],
) -> Any:
    """Run the analysis on the source and print it: with ``--bank`` in one read of the
    database as that bank's strategy staff, with ``--data`` on the files."""
    if src.data is None:
        from chainfin.cli.lending import bank_actor, run_as
        from chainfin.domain.access import Scope

        return run_as(as_json, bank_actor(src.bank, Scope.STRATEGY_READ), on_db, show)
    try:
        result = jsonable(on_files(_view(src.data, src.region)))
    except ChainfinError as exc:
        fail(exc, as_json)
    if as_json:
        print_json(result)
    else:
        show(result)
    return result


def _not_in_region(view: RegionView, chain_key: str) -> NotFound:
    known = ", ".join(c.key for c in view.chains) or "none"
    return NotFound(
        f"no chain {chain_key!r} in region {view.region.key} (its chains: {known})",
        code="strategy_chain_not_found",
    )


def _weights(path: Path | None) -> WeightInput | None:
    if path is None:
        return None
    from chainfin.risk.strategy.ranking import WeightsError, parse_weights

    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        usage(f"--weights {path}: cannot be read ({exc})")
    try:
        return parse_weights(text)
    except WeightsError as exc:
        usage(f"--weights {path}: {exc}")


def _gates(min_core_rating: str | None, restrict_kind: list[str] | None) -> Gates:
    from chainfin.domain.strategy.ratings import SCALE, is_rating
    from chainfin.risk.strategy.ranking import Gates

    if min_core_rating is not None and not is_rating(min_core_rating):
        usage(f"--min-core-rating: {min_core_rating!r} is not a rating ({', '.join(SCALE)})")
    floor = min_core_rating.strip().upper() if min_core_rating else None
    return Gates(restricted_kinds=frozenset(restrict_kind or ()), min_core_rating=floor)


@dataclass(frozen=True)
class RankArgs:
    weights: WeightInput | None
    blend: float | None
    gates: Gates
    draws: int
    seed: int

    def rank(self, view: RegionView) -> Ranking:
        """The ranking of the view's chains with these options: the services' path, the same
        for ``--bank`` (the view the services load) and ``--data`` (the files' view)."""
        from chainfin.services.strategy import rank_view

        return rank_view(
            view,
            weights=self.weights,
            blend=self.blend,
            gates=self.gates,
            draws=self.draws,
            seed=self.seed,
        )


def _rank_args(
    weights: Path | None,
    blend: float | None,
    min_core_rating: str | None,
    restrict_kind: list[str] | None,
    draws: int,
    seed: int,
) -> RankArgs:
    return RankArgs(_weights(weights), blend, _gates(min_core_rating, restrict_kind), draws, seed)


# ---------------------------------------------------------------------------- import


def _show_dataset(body: dict[str, Any]) -> None:
    counts = ", ".join(f"{k} {v:,}" for k, v in body["counts"].items() if v)
    out.print(
        f"dataset {escape(body['id'])} {escape(repr(body['label']))} as of {body['as_of']}: "
        f"{escape(counts)}"
    )
    if body["missing"]:
        out.print(
            f"missing inputs (they lower coverage, never count as zero): "
            f"{escape(', '.join(body['missing']))}"
        )


@app.command("import")
def import_cmd(
    folder: Annotated[Path, typer.Argument(file_okay=False, help="the folder of CSV files")],
    bank: Annotated[str, typer.Option("--bank", help="the bank (code) the data belongs to")],
    label: Annotated[
        str | None, typer.Option(help="what the data is (default: the folder's name)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import the bank's market data for the analysis (enterprises.csv, chains.csv,
    relations.csv and the optional inputs: docs/strategy.md), all or nothing: a bad row is
    named with its file, row and column, and nothing is written."""
    from chainfin.cli.lending import bank_actor, run_as
    from chainfin.domain.access import Scope

    try:
        files = read_folder(folder)
    except ChainfinError as exc:
        fail(exc, as_json)

    def work(session: Session, actor: Principal) -> Any:
        from chainfin.resources.strategy import StrategyDatasetOut
        from chainfin.services import strategy

        info = strategy.import_market(session, actor, files, label=label or folder.name)
        return StrategyDatasetOut.build(info)

    run_as(
        as_json,
        bank_actor(bank, Scope.STRATEGY_READ, Scope.STRATEGY_WRITE),
        work,
        _show_dataset,
        slow="importing market data",
    )


# ---------------------------------------------------------------------------- map


def _show_chains(body: dict[str, Any]) -> None:
    table(
        "chains",
        [
            Col("chain"),
            Col("key", "code"),
            Col("kind", "code", drop=3),
            Col("firms", "number"),
            Col("in region", "number", drop=2),
            Col("customers", "number"),
            Col("segments", "code", drop=1),
            Col("links", "number", drop=4),
            Col("freshness", "code"),
            Col("coverage %", "pct"),
        ],
        [
            [
                c["name"],
                c["chain_key"],
                c["kind"],
                c["firms"],
                c["firms_in_region"],
                c["customers"],
                f"{c['segments_present']}/{c['segments']}",
                c["links"],
                f"{c['freshness']} {c['fresh_pct']} %" if c["links"] else "unknown",
                c["coverage_pct"],
            ]
            for c in body["items"]
        ],
        empty="no chains in the region",
    )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _show_map(body: dict[str, Any]) -> None:
    cov = body["coverage"]
    out.print(
        f"[bold]{escape(body['name'])}[/bold] ({escape(body['chain_key'])}, {body['kind']}) in "
        f"{body['region']} as of {body['as_of']}: {len(body['firms'])} firms, "
        f"{len(body['links'])} links, freshness {body['freshness']} "
        f"({body['fresh_pct']} % fresh), coverage {cov['share_pct']} %"
    )
    table(
        "segments",
        [
            Col("stage", "code"),
            Col("division", "code"),
            Col("segment"),
            Col("firms", "number"),
            Col("present", "code"),
            Col("critical", "code"),
            Col("single source", "code", drop=1),
        ],
        [
            [
                s["stage"],
                s["division"],
                s["label_zh"],
                s["firm_count"],
                _yes(s["present"]),
                "critical" if s["critical"] else "",
                "SINGLE" if s["single_source"] else "",
            ]
            for s in body["segments"]
        ],
        empty="no segment table for this kind of chain",
    )
    table(
        "firms",
        [
            Col("firm"),
            Col("side", "code"),
            Col("tier", "number"),
            Col("stage", "code", drop=2),
            Col("in region", "code", drop=1),
            Col("customer", "code"),
            Col("uscc", "id", drop=3),
        ],
        [
            [
                f["name"],
                f["side"],
                f["tier"],
                f["stage"],
                _yes(f["in_region"]),
                _yes(f["customer"]),
                f["uscc"],
            ]
            for f in body["firms"]
        ],
        empty="no members",
    )
    by: dict[tuple[str, str], int] = {}
    for lk in body["links"]:
        key = (lk["provenance"], lk["freshness"])
        by[key] = by.get(key, 0) + 1
    if by:
        parts = ", ".join(f"{p} {f} {n}" for (p, f), n in sorted(by.items()))
        out.print(f"links by provenance and freshness: {escape(parts)}")
    for note in cov["notes"]:
        out.print(f"note: {escape(note)}")


@app.command("map")
def map_cmd(
    region: RegionOpt,
    chain: Annotated[
        str | None, typer.Option("--chain", help="the chain's key; without it, the region's chains")
    ] = None,
    bank: BankOpt = None,
    data: DataOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A chain's map in the region: its segment tree (critical segments flagged), the firms
    on each segment with tier and role, and the links with provenance and freshness.
    Without --chain: the region's chains with their size, freshness and coverage."""
    src = _source(region, bank, data)
    if chain is None:
        analyse(src, as_json, _db_maps(src), _files_maps, _show_chains)
    else:
        analyse(src, as_json, _db_map(src, chain), _files_map(chain), _show_map)


def _summaries(maps: Any) -> dict[str, Any]:
    from chainfin.resources.strategy import ChainSummaryOut

    return {"items": [ChainSummaryOut.build(m) for m in maps], "next_cursor": None}


def _db_maps(src: Source) -> Callable[[Session, Principal], Any]:
    def work(session: Session, actor: Principal) -> Any:
        from chainfin.services import strategy

        return _summaries(strategy.chain_maps(session, actor, src.region))

    return work


def _files_maps(view: RegionView) -> Any:
    from chainfin.risk.strategy.maps import chain_maps

    return _summaries(chain_maps(view))


def _db_map(src: Source, chain: str) -> Callable[[Session, Principal], Any]:
    def work(session: Session, actor: Principal) -> Any:
        from chainfin.resources.strategy import ChainMapOut
        from chainfin.services import strategy

        return ChainMapOut.build(strategy.chain_map(session, actor, src.region, chain))

    return work


def _files_map(chain: str) -> Callable[[RegionView], Any]:
    def work(view: RegionView) -> Any:
        from chainfin.resources.strategy import ChainMapOut
        from chainfin.risk.strategy.maps import chain_map

        if view.chain(chain) is None:
            raise _not_in_region(view, chain)
        return ChainMapOut.build(chain_map(view, chain))

    return work


# ---------------------------------------------------------------------------- measures


def measure_text(m: Mapping[str, Any]) -> str:
    """A measure for people: shares and rates in %, amounts in yuan in full, † after a
    fallback value, — for a missing one (never 0)."""
    if m["value"] is None:
        return "—"
    value = m["value"]
    if m["unit"] in ("share", "rate"):
        text = f"{value} %"
    elif m["unit"] == "CNY":
        text = grouped(value)
    else:
        text = value
    return f"{text} †" if m["basis"] == "fallback" else text


def _show_measures(body: dict[str, Any]) -> None:
    criteria = body["criteria"]
    rows = []
    for c in body["chains"]:
        by_key = {m["key"]: m for m in c["measures"]}
        rows.append(
            [c["name"]]
            + [measure_text(by_key[k["key"]]) if k["key"] in by_key else "—" for k in criteria]
        )
    table(
        f"measures of the chains in {body['region']} (amounts in {body['currency']})",
        [Col("chain"), *(Col(k["label_en"], "number") for k in criteria)],
        rows,
        empty="no chains in the region",
    )
    out.print("† a fallback value (see the note) · — missing: not measured, never counted as 0")
    notes: dict[str, list[str]] = {}
    for c in body["chains"]:
        for note in (c["coverage"] or {}).get("notes", []):
            notes.setdefault(note, []).append(c["name"])
    if notes:
        out.print("coverage notes:")
    everyone = len(body["chains"])
    for note, chains in notes.items():
        where = "" if len(chains) == everyone else f" ({', '.join(chains)})"
        out.print(f"  {escape(note)}{escape(where)}")


@app.command("measures")
def measures_cmd(
    region: RegionOpt, bank: BankOpt = None, data: DataOpt = None, as_json: JsonOpt = False
) -> None:
    """Every chain of the region measured on every criterion (completeness, local supporting
    rate, core strength, concentration, SME depth, growth, financing gap, policy priority,
    the bank's position, risk), with the inputs of each value; a fallback is marked †, a
    missing value — and the coverage notes say why."""
    src = _source(region, bank, data)

    def on_db(session: Session, actor: Principal) -> Any:
        from chainfin.resources.strategy import RegionMeasuresOut
        from chainfin.services import strategy

        return RegionMeasuresOut.build(
            src.region.key, strategy.measures(session, actor, src.region)
        )

    def on_files(view: RegionView) -> Any:
        from chainfin.resources.strategy import RegionMeasuresOut
        from chainfin.risk.strategy.measures import measure_chains

        return RegionMeasuresOut.build(view.region.key, measure_chains(view), view.dataset.currency)

    analyse(src, as_json, on_db, on_files, _show_measures)


# ---------------------------------------------------------------------------- rank


def _interval(c: Mapping[str, Any]) -> str:
    if c["rank_low"] is None:
        return ""
    if c["rank_low"] == c["rank_high"]:
        return f"[{c['rank_low']}]"
    return f"[{c['rank_low']}–{c['rank_high']}]"


def rank_line(c: Mapping[str, Any]) -> str:
    """One chain of a ranking in one line: rank, interval, score, quadrant, name, reason."""
    if c["rank"] is None:
        return f" —  excluded  {c['name']} — {c['reason']}"
    return (
        f"{c['rank']:>2}  {_interval(c):<9} {c['score']:.3f}  {c['quadrant'] or '':<8}  "
        f"{c['name']} — {c['reason']}"
    )


def _show_ranking(body: dict[str, Any]) -> None:
    out.print(
        f"[bold]ranking of the chains in {escape(body['region'])}[/bold] as of {body['as_of']} "
        f"(rank, rank interval over {body['draws']} draws at ±{body['noise_pct']} % weight "
        f"noise, TOPSIS score, quadrant)"
    )
    if not body["chains"]:
        out.print("no chains in the region")
    for c in body["chains"]:
        out.print(escape(rank_line(c)), soft_wrap=True)
    w = body["weights"]
    if w["subjective_method"]:
        cr = w["consistency_ratio"]
        out.print(
            f"weights: entropy blended with head office's ({w['subjective_method']}"
            + (f", CR {cr:.3f}" if cr is not None else "")
            + f") at {w['blend']:.2f}"
        )
    else:
        out.print("weights: entropy method only (no --weights)")
    top = sorted(w["final"].items(), key=lambda kv: -kv[1])[:3]
    out.print("heaviest criteria: " + ", ".join(f"{k} {v:.3f}" for k, v in top))
    cov = body["coverage"]
    out.print(f"coverage {cov['share_pct']} %, seed {body['seed']}")
    for note in cov["notes"]:
        out.print(f"note: {escape(note)}")


@app.command("rank")
def rank_cmd(
    region: RegionOpt,
    bank: BankOpt = None,
    data: DataOpt = None,
    weights: WeightsOpt = None,
    blend: BlendOpt = None,
    draws: DrawsOpt = DRAWS,
    seed: SeedOpt = SEED,
    min_core_rating: MinRatingOpt = None,
    restrict_kind: RestrictOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The region's chains ranked: measures normalised, entropy weights blended with head
    office's own (--weights: direct, or AHP pairwise with CR < 0.1), TOPSIS; gates exclude
    chains; each chain's rank interval over seeded draws with ±20 % weight noise; the
    attractiveness × ability-to-win quadrant and a one-line reason."""
    src = _source(region, bank, data)
    args = _rank_args(weights, blend, min_core_rating, restrict_kind, draws, seed)

    def on_db(session: Session, actor: Principal) -> Any:
        from chainfin.resources.strategy import RankingOut
        from chainfin.services import strategy

        return RankingOut.build(args.rank(strategy.view(session, actor, src.region)))

    def on_files(view: RegionView) -> Any:
        from chainfin.resources.strategy import RankingOut

        return RankingOut.build(args.rank(view))

    analyse(src, as_json, on_db, on_files, _show_ranking)


# ---------------------------------------------------------------------------- leads


def _show_leads(body: dict[str, Any]) -> None:
    cur = body["currency"]
    table(
        f"leads in {body['chain_key']} ({body['region']})",
        [
            Col("#", "number"),
            Col("firm"),
            Col("tier", "number", drop=3),
            Col("trade 12m", "amount"),
            Col("on time %", "pct", drop=2),
            Col("financeable", "amount", drop=1),
            Col("limit", "amount"),
            Col("score", "number"),
            Col("uscc", "id", drop=4),
        ],
        [
            [
                n,
                lead["name"],
                lead["tier"],
                {"amount": lead["trade_volume"], "currency": cur},
                lead["on_time_pct"],
                {"amount": lead["financeable"], "currency": cur},
                {"amount": lead["indicative_limit"], "currency": cur},
                f"{lead['score']:.1f}",
                lead["uscc"],
            ]
            for n, lead in enumerate(body["leads"], start=1)
        ],
        empty="no leads: no non-customer member trades with a core the bank serves",
    )
    for n, lead in enumerate(body["leads"], start=1):
        out.print(f"{n}. {escape(lead['name'])}: {escape('; '.join(lead['reasons']))}")


@app.command("leads")
def leads_cmd(
    region: RegionOpt,
    chain: Annotated[str, typer.Option("--chain", help="the chain's key")],
    bank: BankOpt = None,
    data: DataOpt = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", dir_okay=False, help="also write the leads as CSV")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Leads in a chain: members that are not the bank's customers but trade with a core it
    serves, scored by trade volume with the core, payment behaviour and financeable
    receivables, with an indicative limit. --csv writes them for branches."""
    src = _source(region, bank, data)

    def build(view_region: str, currency: str, found: Any) -> Any:
        from chainfin.resources.strategy import LeadsOut

        if csv_out is not None:
            from chainfin.risk.strategy.leads import leads_csv

            _write(csv_out, leads_csv(found).encode("utf-8"))
        return LeadsOut.build(view_region, chain, found, currency)

    def on_db(session: Session, actor: Principal) -> Any:
        from chainfin.services import strategy

        found = strategy.leads(session, actor, src.region, chain, limit=limit)
        return build(src.region.key, "CNY", found)

    def on_files(view: RegionView) -> Any:
        from chainfin.risk.strategy.leads import leads

        if view.chain(chain) is None:
            raise _not_in_region(view, chain)
        found = leads(view, chain, limit=limit)
        return build(view.region.key, view.dataset.currency, found)

    def show(body: dict[str, Any]) -> None:
        _show_leads(body)
        if csv_out is not None:
            out.print(f"wrote {len(body['leads'])} leads to {escape(str(csv_out))}")

    analyse(src, as_json, on_db, on_files, show)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ValidationFailed(
            [FieldError(str(path), f"cannot be written ({exc.strerror or exc})")],
            code="file_unwritable",
        ) from None


# ---------------------------------------------------------------------------- report


@app.command("report")
def report_cmd(
    region: RegionOpt,
    out_file: Annotated[Path, typer.Option("--out", dir_okay=False, help="the PDF to write")],
    bank: BankOpt = None,
    data: DataOpt = None,
    lang: Annotated[str, typer.Option(help="zh_CN or en")] = "zh_CN",
    weights: WeightsOpt = None,
    blend: BlendOpt = None,
    draws: DrawsOpt = DRAWS,
    seed: SeedOpt = SEED,
    min_core_rating: MinRatingOpt = None,
    restrict_kind: RestrictOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The strategy committee's report as a PDF: the ranking with rank intervals and the
    quadrant chart, the measures with their definitions, the top chains' maps and leads,
    and the data's coverage and date. The ranking options are those of `rank`."""
    if lang not in ("zh_CN", "en"):
        usage(f"--lang: {lang!r} is not zh_CN or en")
    src = _source(region, bank, data)
    args = _rank_args(weights, blend, min_core_rating, restrict_kind, draws, seed)
    options: dict[str, Any] = {
        "lang": lang,
        "weights": args.weights,
        "blend": args.blend,
        "gates": args.gates,
        "draws": args.draws,
        "seed": args.seed,
    }

    def done(pdf: bytes) -> dict[str, Any]:
        from chainfin.resources.strategy import ReportFileOut

        _write(out_file, pdf)
        return ReportFileOut(
            file=str(out_file),
            bytes=len(pdf),
            region=src.region.key,
            lang=lang,
            sha256=hashlib.sha256(pdf).hexdigest(),
        ).model_dump(mode="json")

    def on_db(session: Session, actor: Principal) -> Any:
        from chainfin.services import strategy

        return done(strategy.report_pdf(session, actor, src.region, **options))

    def on_files(view: RegionView) -> Any:
        from chainfin.adapters.formats.strategy_report import render_pdf
        from chainfin.services.strategy import report_of_view

        bank_name = view.dataset.bank.bank if view.dataset.bank is not None else ""
        return done(render_pdf(report_of_view(view, bank=bank_name, **options)))

    analyse(
        src,
        as_json,
        on_db,
        on_files,
        lambda b: out.print(
            f"wrote {escape(b['file'])}: {b['bytes']:,} bytes, the {b['lang']} report on "
            f"{b['region']}"
        ),
    )


# ---------------------------------------------------------------------------- io-shares


def _concordance(path: Path, left: str, right: str) -> list[tuple[str, str]]:
    """The (table name, code) rows of a two-column concordance CSV with the header given."""
    import csv
    import io

    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        usage(f"{path}: cannot be read ({exc})")
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or {left, right} - set(reader.fieldnames):
        usage(f"{path}: give the columns {left},{right}")
    rows = []
    for n, row in enumerate(reader, start=2):
        name, code = (row[left] or "").strip(), (row[right] or "").strip()
        if not name or not code:
            usage(f"{path} row {n}: {left} and {right} are both needed")
        rows.append((name, code))
    return rows


@app.command("io-shares")
def io_shares_cmd(
    z_file: Annotated[
        Path, typer.Argument(dir_okay=False, help="the MRIO's Z matrix in pymrio's text layout")
    ],
    regions: Annotated[
        Path, typer.Option(help="CSV mrio_region,region_code (GB/T 2260 province code)")
    ],
    sectors: Annotated[
        Path,
        typer.Option(
            help="CSV mrio_sector,division (GB/T 4754; repeat a sector to map it to several)"
        ),
    ],
    out_file: Annotated[Path, typer.Option("--out", dir_okay=False, help="io_shares.csv to write")],
    as_json: JsonOpt = False,
) -> None:
    """Local supporting rates from a multi-regional input-output table: of what each
    division in each province buys as intermediate inputs, the share bought inside the
    province; written as the io_shares.csv input (docs/strategy.md)."""
    from chainfin.domain.industry import check_industry_code, parse_industry_code
    from chainfin.domain.region import check_region_code
    from chainfin.risk.strategy.io_table import IoTableError, io_shares_csv, read_z

    try:
        table = read_z(z_file.read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        usage(f"{z_file}: cannot be read ({exc})")
    except IoTableError as exc:
        usage(f"{z_file}: {exc}")
    to_region: dict[str, str] = {}
    for name, code in _concordance(regions, "mrio_region", "region_code"):
        problem = check_region_code(code)
        if problem is not None or not code.endswith("0000"):
            usage(f"{regions}: {code!r} is not a GB/T 2260 province code (xx0000)")
        to_region[name] = code
    to_divisions: dict[str, tuple[str, ...]] = {}
    for name, code in _concordance(sectors, "mrio_sector", "division"):
        if check_industry_code(code) is not None:
            usage(f"{sectors}: {code!r} is not a GB/T 4754 division")
        to_divisions[name] = (*to_divisions.get(name, ()), parse_industry_code(code).code)
    text = io_shares_csv(table, to_region, to_divisions)
    _write(out_file, text.encode("utf-8"))
    rows = text.count("\n") - 1
    if as_json:
        print_json({"file": str(out_file), "shares": rows})
        return
    out.print(f"wrote {escape(str(out_file))}: {rows} (province, division) shares")

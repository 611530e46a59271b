"""The strategy inputs as CSV files (domain/strategy/csv_input.py): a good folder parses into
a dataset; every kind of bad input is refused with the file, the row and the column, and
nothing is returned."""

from __future__ import annotations

from datetime import date

import pytest

from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.strategy import csv_input
from chainfin.domain.strategy.csv_input import parse_inputs
from chainfin.domain.strategy.dataset import INPUTS, Exposure, Receivable, TradeFlow
from chainfin.domain.uscc import make_uscc


def uscc(n: int, region: str = "320505") -> str:
    return make_uscc("9", "1", region, f"{n:08d}")


CORE, T1, T2, DEALER = uscc(1), uscc(2), uscc(3, "320582"), uscc(4, "310115")
OUTSIDE = uscc(5, "440305")

GOOD: dict[str, str] = {
    "enterprises.csv": (
        "uscc,name,region_code,industry_code,role,size_class,employees,revenue_yuan,rating\n"
        f"{CORE},苏州整车,320505,C36,core,large,5000,12000000000.00,aa+\n"
        f"{T1},苏州电池,320505,C38,supplier,medium,800,900000000,\n"
        f"{T2},张家港铜箔,320582,C32,supplier,,,,\n"
        f"{DEALER},上海车贸,310115,F51,dealer,small,40,,\n"
    ),
    "chains.csv": (
        "chain_key,name,kind,core_usccs,region_code,max_tier\n"
        f"sz-nev,苏州新能源汽车,nev,{CORE},,3\n"
    ),
    "relations.csv": (
        "seller_uscc,buyer_uscc,provenance,first_seen_on,last_seen_on\n"
        f"{T1},{CORE},platform_trade,2025-07-02,2026-06-28\n"
        f"{T2},{T1},declared,2024-01-01,2024-01-01\n"
        f"{CORE},{DEALER},payments,2025-09-01,2026-05-31\n"
    ),
    "trade_flows.csv": (
        "seller_uscc,buyer_uscc,month,amount_yuan,paid_late_yuan\n"
        f"{T1},{CORE},2026-05,1000000.50,250000\n"
        f"{T1},{CORE},2026-06,800000,\n"
    ),
    "financials.csv": (
        "uscc,year,revenue_yuan,margin,growth,dso_days,dio_days,dpo_days,loans_yuan\n"
        f"{T1},2025,900000000,0.08,-0.05,75,40,60,120000000\n"
    ),
    "policies.csv": (
        "region_code,kind,level,source,year\n320000,nev,province,苏政办发〔2023〕12号,2023\n"
    ),
    "io_shares.csv": "region_code,division,local_share\n320000,C38,0.62\n",
    "receivables.csv": (
        "seller_uscc,buyer_uscc,amount_yuan,due_on,confirmed,registered\n"
        f"{T1},{CORE},300000,2026-09-30,1,0\n"
    ),
    "customers.csv": f"uscc\n{CORE}\n",
    "exposures.csv": (
        "uscc,exposure_yuan,limit_yuan,credentials_funded_yuan,overdue,pd,lgd\n"
        f"{CORE},50000000,80000000,,0,0.01,0.45\n"
    ),
    "alerts.csv": f"uscc,open_alerts\n{T1},2\n",
}
REQUIRED = {k: v for k, v in GOOD.items() if k in csv_input.REQUIRED_FILES}


def encode(texts: dict[str, str]) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in texts.items()}


def with_file(name: str, text: str, base: dict[str, str] = GOOD) -> dict[str, bytes]:
    return encode({**base, name: text})


def refusals(files: dict[str, bytes]) -> list[FieldError]:
    with pytest.raises(ValidationFailed) as caught:
        parse_inputs(files)
    return caught.value.errors


def only(files: dict[str, bytes]) -> tuple[str, str]:
    errors = refusals(files)
    assert len(errors) == 1, errors
    return errors[0].field, errors[0].reason


# ---------------------------------------------------------------------------- a good folder


def test_a_good_folder_parses_into_every_input() -> None:
    ds = parse_inputs(encode(GOOD), bank="BKA")
    assert [f.uscc for f in ds.firms] == [CORE, T1, T2, DEALER]
    assert ds.firms[0].revenue_minor == 12_000_000_000_00
    assert ds.firms[0].rating == "AA+"  # ratings are read case-insensitively
    assert ds.firms[1].industry_code == "C38"
    assert ds.chains[0].region_code == "320505"  # the first core's home when not given
    assert ds.chains[0].max_tier == 3
    assert ds.flows[0] == TradeFlow(T1, CORE, date(2026, 5, 1), 100_000_050, 25_000_000)
    assert ds.flows[1].paid_late_minor is None
    assert ds.financials[0].growth == -0.05
    assert ds.receivables == (Receivable(T1, CORE, 30_000_000, date(2026, 9, 30), True, False),)
    assert ds.bank is not None
    assert ds.bank.bank == "BKA"
    assert ds.bank.customers == frozenset({CORE})
    assert ds.bank.exposures == (
        Exposure(CORE, 5_000_000_000, 8_000_000_000, 0, False, 0.01, 0.45),
    )
    assert ds.bank.open_alerts == ((T1, 2),)
    assert ds.missing == ("segments",)
    assert ds.sources["relations"] == "file relations.csv (3 rows)"


def test_as_of_defaults_to_the_latest_last_seen_or_month_end() -> None:
    assert parse_inputs(encode(GOOD)).as_of == date(2026, 6, 30)  # June's flows end on the 30th
    assert parse_inputs(encode(REQUIRED)).as_of == date(2026, 6, 28)
    assert parse_inputs(encode(REQUIRED), as_of=date(2026, 7, 15)).as_of == date(2026, 7, 15)


def test_the_required_files_alone_leave_every_other_input_missing() -> None:
    ds = parse_inputs(encode(REQUIRED))
    assert ds.missing == INPUTS[3:]
    assert ds.bank is None
    assert set(ds.sources) == {"enterprises", "chains", "relations"}


def test_a_banks_own_segments_table_defines_the_chain_kinds() -> None:
    segments = (
        "kind,kind_zh,kind_en,stage,division,examples_zh,critical\n"
        "drone,无人机,Drones,midstream,C37,整机,1\n"
    )
    chains = f"chain_key,name,kind,core_usccs\nsz-drone,苏州无人机,drone,{CORE}\n"
    ds = parse_inputs(encode({**REQUIRED, "segments.csv": segments, "chains.csv": chains}))
    assert ds.chains[0].kind == "drone"
    assert ds.segments_csv == segments
    field, reason = only(encode({**REQUIRED, "segments.csv": segments}))  # nev is not in it
    assert (field, reason) == (
        "chains.csv row 2: kind",
        "'nev' is not a chain kind of the segments table",
    )


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    files = encode(REQUIRED)
    files["enterprises.csv"] = b"\xef\xbb\xbf" + files["enterprises.csv"]
    assert len(parse_inputs(files).firms) == 4


# ---------------------------------------------------------------------------- refusals


def test_an_unknown_file_is_refused() -> None:
    field, reason = only(encode({**REQUIRED, "loans.csv": "uscc\n"}))
    assert field == "loans.csv"
    assert reason.startswith("is not a strategy input: give enterprises.csv, chains.csv")


def test_a_missing_required_file_is_refused() -> None:
    files = encode({k: v for k, v in REQUIRED.items() if k != "relations.csv"})
    assert only(files) == ("relations.csv", "is required")


def test_an_extra_column_is_refused_by_name() -> None:
    text = "seller_uscc,buyer_uscc,month,amount_yuan,note,colour\n"
    assert only(with_file("trade_flows.csv", text)) == (
        "trade_flows.csv",
        "unknown columns note, colour",
    )


def test_a_missing_column_is_refused_by_name() -> None:
    text = f"uscc,name,region_code,industry_code\n{CORE},苏州整车,320505,C36\n"
    assert only(with_file("enterprises.csv", text)) == ("enterprises.csv", "missing columns role")


def test_a_file_without_a_header_is_refused() -> None:
    assert only(with_file("alerts.csv", "")) == ("alerts.csv", "is empty: a header row is required")


def test_a_file_not_in_utf8_is_refused() -> None:
    files = encode(GOOD)
    files["policies.csv"] = (
        "region_code,kind,level,source,year\n320000,nev,province,苏政办,2023\n".encode("gbk")
    )
    field, reason = only(files)
    assert field == "policies.csv"
    assert reason.startswith("is not UTF-8")


def test_a_file_over_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_input, "MAX_BYTES", 1000)
    field, reason = only(encode({**REQUIRED, "customers.csv": "uscc\n" + f"{CORE}\n" * 100}))
    assert (field, reason) == ("customers.csv", "is 1,905 bytes, over the limit of 1,000 (50 MB)")


def test_a_file_over_the_row_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_input, "MAX_ROWS", 3)
    assert only(encode(REQUIRED)) == ("enterprises.csv", "has more than 3 rows")


def test_a_row_with_another_number_of_fields_is_refused() -> None:
    text = f"uscc,open_alerts\n{T1},2,7\n"
    assert only(with_file("alerts.csv", text)) == ("alerts.csv row 2", "has 3 fields, the header 2")


def test_an_empty_required_field_is_refused() -> None:
    text = GOOD["enterprises.csv"].replace("苏州电池", "")
    assert only(with_file("enterprises.csv", text)) == ("enterprises.csv row 3: name", "is empty")


def test_a_uscc_with_a_wrong_check_character_is_refused() -> None:
    bad = T1[:-1] + ("0" if T1[-1] != "0" else "1")
    text = f"uscc,open_alerts\n{bad},2\n"
    field, reason = only(with_file("alerts.csv", text))
    assert field == "alerts.csv row 2: uscc"
    assert reason.startswith(f"{bad!r} is not a USCC: check digit should be")


def test_an_unknown_region_code_is_refused() -> None:
    text = GOOD["enterprises.csv"].replace(f"{T2},张家港铜箔,320582", f"{T2},张家港铜箔,329999")
    assert only(with_file("enterprises.csv", text)) == (
        "enterprises.csv row 4: region_code",
        "329999 is not a GB/T 2260 region code",
    )


def test_an_industry_section_alone_is_refused() -> None:
    text = GOOD["enterprises.csv"].replace(",C32,", ",C,")
    field, reason = only(with_file("enterprises.csv", text))
    assert field == "enterprises.csv row 4: industry_code"
    assert reason.startswith("section C (制造业) is too broad: give a division")


def test_a_role_outside_the_list_is_refused() -> None:
    text = GOOD["enterprises.csv"].replace(",dealer,", ",retailer,")
    assert only(with_file("enterprises.csv", text)) == (
        "enterprises.csv row 5: role",
        "'retailer' is not one of core, supplier, dealer, service, other",
    )


def test_an_amount_with_more_than_two_decimals_is_refused() -> None:
    text = f"seller_uscc,buyer_uscc,month,amount_yuan\n{T1},{CORE},2026-05,100.005\n"
    field, reason = only(with_file("trade_flows.csv", text))
    assert field == "trade_flows.csv row 2: amount_yuan"
    assert reason.startswith("'100.005' has more than 2 decimal places for CNY")


def test_a_negative_amount_is_refused() -> None:
    text = f"uscc,exposure_yuan\n{CORE},-5\n"
    assert only(with_file("exposures.csv", text)) == (
        "exposures.csv row 2: exposure_yuan",
        "'-5' is negative",
    )


def test_a_date_not_in_iso_form_is_refused() -> None:
    text = GOOD["relations.csv"].replace("2025-09-01", "2025/09/01")
    assert only(with_file("relations.csv", text)) == (
        "relations.csv row 4: first_seen_on",
        "'2025/09/01' is not a date YYYY-MM-DD",
    )


def test_a_month_not_in_year_month_form_is_refused() -> None:
    text = f"seller_uscc,buyer_uscc,month,amount_yuan\n{T1},{CORE},2026-13,1\n"
    assert only(with_file("trade_flows.csv", text)) == (
        "trade_flows.csv row 2: month",
        "'2026-13' is not a month YYYY-MM",
    )


def test_a_ratio_outside_zero_to_one_is_refused() -> None:
    text = "region_code,division,local_share\n320000,C38,1.2\n"
    assert only(with_file("io_shares.csv", text)) == (
        "io_shares.csv row 2: local_share",
        "1.2 is outside [0, 1]",
    )


def test_an_io_share_of_a_prefecture_is_refused() -> None:
    text = "region_code,division,local_share\n320500,C38,0.5\n"
    assert only(with_file("io_shares.csv", text)) == (
        "io_shares.csv row 2: region_code",
        "320500 is not a province (xx0000)",
    )


def test_a_rating_off_the_scale_is_refused() -> None:
    text = GOOD["enterprises.csv"].replace(",aa+\n", ",A1\n")
    assert only(with_file("enterprises.csv", text)) == (
        "enterprises.csv row 2: rating",
        "'A1' is not a rating on the scale AAA…D",
    )


def test_an_unknown_provenance_is_refused() -> None:
    text = GOOD["relations.csv"].replace(",payments,", ",rumour,")
    assert only(with_file("relations.csv", text)) == (
        "relations.csv row 4: provenance",
        "'rumour' is not one of platform_trade, declared, payments",
    )


def test_a_link_last_seen_before_it_was_first_seen_is_refused() -> None:
    text = GOOD["relations.csv"].replace("2025-09-01,2026-05-31", "2026-06-01,2026-05-31")
    assert only(with_file("relations.csv", text)) == (
        "relations.csv row 4: last_seen_on",
        "2026-05-31 is before first_seen_on 2026-06-01",
    )


def test_a_link_of_a_firm_to_itself_is_refused() -> None:
    text = GOOD["relations.csv"].replace(f"{T2},{T1},", f"{T1},{T1},")
    assert only(with_file("relations.csv", text)) == (
        "relations.csv row 3: buyer_uscc",
        "is the seller itself",
    )


def test_a_chain_core_not_among_the_enterprises_is_refused() -> None:
    text = f"chain_key,name,kind,core_usccs\nsz-nev,苏州新能源汽车,nev,{CORE};{OUTSIDE}\n"
    assert only(with_file("chains.csv", text)) == (
        "chains.csv row 2: core_usccs",
        f"{OUTSIDE} is not in enterprises.csv",
    )


def test_a_chain_kind_not_in_the_segments_table_is_refused() -> None:
    text = f"chain_key,name,kind,core_usccs\nsz-x,苏州,spaceships,{CORE}\n"
    assert only(with_file("chains.csv", text)) == (
        "chains.csv row 2: kind",
        "'spaceships' is not a chain kind of the segments table",
    )


def test_a_repeated_key_is_refused() -> None:
    text = GOOD["enterprises.csv"] + f"{T1},苏州电池二厂,320505,C38,supplier,,,,\n"
    assert only(with_file("enterprises.csv", text)) == (
        "enterprises.csv row 6: uscc",
        f"{T1} is repeated",
    )


def test_a_flag_other_than_zero_or_one_is_refused() -> None:
    text = GOOD["receivables.csv"].replace(",1,0\n", ",yes,0\n")
    assert only(with_file("receivables.csv", text)) == (
        "receivables.csv row 2: confirmed",
        "'yes' is not 0 or 1",
    )


def test_more_paid_late_than_invoiced_is_refused() -> None:
    text = f"seller_uscc,buyer_uscc,month,amount_yuan,paid_late_yuan\n{T1},{CORE},2026-05,10,11\n"
    assert only(with_file("trade_flows.csv", text)) == (
        "trade_flows.csv row 2: paid_late_yuan",
        "is more than amount_yuan",
    )


def test_a_bad_segments_table_is_refused() -> None:
    header = "kind,kind_zh,kind_en,stage,division,examples_zh,critical\n"
    text = header + "nev,新能源汽车,NEV,sideways,C36,整车,0\n"
    assert only(with_file("segments.csv", text)) == (
        "segments.csv",
        "segments row 2: stage must be one of upstream, midstream, downstream",
    )


def test_inputs_without_any_date_need_an_as_of() -> None:
    relations = "seller_uscc,buyer_uscc,provenance,first_seen_on,last_seen_on\n"
    assert only(encode({**REQUIRED, "relations.csv": relations})) == (
        "as_of",
        "no date in the inputs (relations, trade flows or receivables): give at least one",
    )


def test_every_bad_row_is_reported_up_to_fifty() -> None:
    rows = "".join(f"{T1},x{i}\n" for i in range(80))
    errors = refusals(with_file("alerts.csv", "uscc,open_alerts\n" + rows))
    assert len(errors) == csv_input.MAX_ERRORS
    assert errors[0] == FieldError("alerts.csv row 2: open_alerts", "'x0' is not a whole number")
    assert errors[-1].field == "alerts.csv row 51: open_alerts"


def test_a_blank_size_class_is_derived_from_employees_and_revenue() -> None:
    """工信部联企业〔2011〕300号, industry: at least 20 staff and 3 million yuan of revenue
    but short of medium (300 staff and 20 million yuan) is small: 50 staff, 5 million."""
    from chainfin.domain.strategy.csv_input import derived_size_class

    assert derived_size_class("C38", 50, 5_000_000 * 100) == "small"
    assert derived_size_class("C38", None, None) is None


@pytest.mark.parametrize(
    ("old", "new", "column", "why"),
    [
        (
            "2025-09-01,2026-05-31",
            "0001-01-01,2026-05-31",
            "first_seen_on",
            "'0001-01-01' is before 1949-10-01",
        ),
        (
            "2025-09-01,2026-05-31",
            "2025-09-01,9999-12-31",
            "last_seen_on",
            "'9999-12-31' is after today (2026-11-26)",
        ),
    ],
)
def test_a_date_that_cannot_have_been_observed_is_refused(
    old: str, new: str, column: str, why: str
) -> None:
    """A date before the data could exist or after today would move the analysis date and
    every window with it: refused, naming the row (the test worlds' today is 2026-11-26)."""
    text = GOOD["relations.csv"].replace(old, new)
    assert only(with_file("relations.csv", text)) == (f"relations.csv row 4: {column}", why)


def test_a_month_in_the_future_is_refused() -> None:
    text = f"seller_uscc,buyer_uscc,month,amount_yuan\n{T1},{CORE},9999-12,100\n"
    assert only(with_file("trade_flows.csv", text)) == (
        "trade_flows.csv row 2: month",
        "'9999-12' is after today (2026-11-26)",
    )


@pytest.mark.parametrize("key", ["a/b", "../../x<script>", "集成电路-1", "-lead", 'q"x'])
def test_a_chain_key_that_cannot_go_into_a_url_is_refused(key: str) -> None:
    text = GOOD["chains.csv"].replace("sz-nev,", f"{key},", 1)
    row, why = only(with_file("chains.csv", text))
    assert row == "chains.csv row 2: chain_key"
    assert why.startswith(repr(key))
    assert "letters, digits" in why

"""Point-in-time chain features on a hand-built document list (values computed by hand),
no look-ahead, the synthetic default outcomes (deterministic, the history unchanged), and a
small end-to-end run: features at a cut-off, later defaults as labels, a scorecard."""

from __future__ import annotations

import hashlib
import math
from datetime import date, timedelta

import pandas as pd
import pytest

from chainfin.demo.synthetic import RegionKey, Scale, generate
from chainfin.demo.trade_history import (
    DEFAULT_BASE_RATE,
    DEFAULT_HORIZON_DAYS,
    TradeHistory,
    default_cutoff,
    default_outcomes,
    generate_history,
)
from chainfin.domain.documents import DocumentKind, TradeDocument
from chainfin.domain.money import Money
from chainfin.risk.features import FEATURES, features
from chainfin.risk.scorecard import TrainOptions, train

AS_OF = date(2026, 3, 31)
S, B1, B2 = "SELLER", "BUYER-CORE", "BUYER-TWO"
K = DocumentKind


def doc(
    kind: DocumentKind,
    number: str,
    seller: str,
    buyer: str,
    day: date,
    total: int,
    **kw: object,
) -> TradeDocument:
    return TradeDocument(
        kind=kind,
        number=number,
        seller_uscc=seller,
        buyer_uscc=buyer,
        issue_date=day,
        currency="CNY",
        total=Money(total),
        **kw,  # type: ignore[arg-type]
    )


# Days back from AS_OF, and so the 30-day month bucket: 03-30 1 (0), 03-20 11 (0),
# 03-05 26 (0), 03-01 30 (1), 02-10 49 (1), 01-20 70 (2), 01-10 80 (2), 01-05 85 (2),
# 11-01 150 (5), 2025-08-01 242 (8), 2025-06-01 303 (10).
DOCS = [
    doc(K.CONTRACT, "CT-1", S, B1, date(2025, 6, 1), 1_000_000),
    doc(K.INVOICE, "INV-4", S, B2, date(2025, 8, 1), 40_000, invoice_number="N4"),
    doc(K.PAYMENT, "PAY-4", S, B2, date(2025, 10, 30), 40_000, invoice_number="N4"),
    doc(K.PURCHASE_ORDER, "PO-4", S, B2, date(2025, 11, 1), 3_000),
    doc(K.PURCHASE_ORDER, "PO-3", S, B2, date(2026, 1, 5), 2_000),
    doc(K.INVOICE, "INV-3", S, B2, date(2026, 1, 10), 20_000, invoice_number="N3"),
    doc(K.CREDIT_NOTE, "CN-1", S, B2, date(2026, 1, 20), 1_000, invoice_number="N3"),
    doc(K.PURCHASE_ORDER, "PO-2", S, B1, date(2026, 2, 10), 3_000),
    doc(
        K.GOODS_RECEIPT,
        "GR-2",
        S,
        B1,
        date(2026, 3, 1),
        3_000,
        order_number="PO-2",
        delivered_on=date(2026, 3, 1),
    ),  # 19 days after the order: late
    doc(K.INVOICE, "INV-2", S, B1, date(2026, 3, 5), 30_000, invoice_number="N2"),
    doc(K.PAYMENT, "PAY-3", S, B2, date(2026, 3, 11), 19_000, invoice_number="N3"),
    doc(K.PURCHASE_ORDER, "PO-1", S, B1, date(2026, 3, 20), 1_000),
    doc(
        K.GOODS_RECEIPT,
        "GR-1",
        S,
        B1,
        date(2026, 3, 30),
        1_000,
        order_number="PO-1",
        delivered_on=date(2026, 3, 30),
    ),  # 10 days: on time
    doc(
        K.GOODS_RECEIPT,
        "GR-X",
        S,
        B1,
        date(2026, 3, 30),
        1_000,
        order_number="PO-UNKNOWN",
        delivered_on=date(2026, 3, 30),
    ),  # no order known: skipped
    doc(K.INVOICE, "INV-1", S, B1, date(2026, 3, 30), 11_300, invoice_number="N1"),
]
# After AS_OF: a payment, a receipt, an order, a credit note, an invoice, a new firm.
LATER = [
    doc(K.PAYMENT, "PAY-2", S, B1, date(2026, 4, 10), 30_000, invoice_number="N2"),
    doc(
        K.GOODS_RECEIPT,
        "GR-1b",
        S,
        B1,
        date(2026, 4, 2),
        500,
        order_number="PO-1",
        delivered_on=date(2026, 4, 2),
    ),
    doc(K.PURCHASE_ORDER, "PO-5", S, B2, date(2026, 4, 1), 9_000),
    doc(K.CREDIT_NOTE, "CN-2", S, B1, date(2026, 4, 3), 500, invoice_number="N1"),
    doc(K.INVOICE, "INV-5", S, "NEWCOMER", date(2026, 4, 1), 99_000, invoice_number="N5"),
    doc(K.CONTRACT, "CT-0", "NEWCOMER", S, date(2026, 4, 1), 5_000),
]


def by_uscc(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["uscc"]): r for r in rows}


def test_hand_computed_seller_features() -> None:
    rows = by_uscc(features(DOCS, AS_OF, cores={B1}))
    assert sorted(rows) == sorted([S, B1, B2])
    r = rows[S]
    assert r["as_of"] == "2026-03-31"
    assert r["tenure_months"] == pytest.approx(303 / 30)
    assert r["customers"] == 2
    sales = 41_300 + 60_000
    assert r["top_customer_share"] == pytest.approx(60_000 / sales)
    assert r["core_share"] == pytest.approx(41_300 / sales)
    assert r["sales_hhi"] == pytest.approx((41_300**2 + 60_000**2) / sales**2)
    assert r["sales_6m"] == pytest.approx(613.0)  # (11 300 + 30 000 + 20 000) fen
    # orders by month: counts [1, 1, 1, 0, 0, 1], amounts [1000, 3000, 2000, 0, 0, 3000]
    assert r["order_count_cv"] == pytest.approx(math.sqrt(2) / 2)
    assert r["order_amount_cv"] == pytest.approx(math.sqrt(9.5e6 / 6) / 1500)
    assert r["order_trend"] == pytest.approx(6000 / 3000 - 1)
    assert r["on_time_delivery"] == pytest.approx(1 / 2)
    assert r["credit_note_ratio"] == pytest.approx(1 / 4)
    assert r["days_to_be_paid"] == pytest.approx((90 + 60) / 2)
    assert r["days_to_pay"] is None  # it paid nobody
    assert r["invoice_growth"] == pytest.approx(61_300 / 40_000 - 1)


def test_hand_computed_buyer_features() -> None:
    rows = by_uscc(features(DOCS, AS_OF))
    assert "core_share" not in rows[B2]  # no cores given: left out
    assert rows[B2]["days_to_pay"] == pytest.approx(75)
    assert rows[B2]["tenure_months"] == pytest.approx(242 / 30)
    assert rows[B1]["days_to_pay"] is None  # its invoice N2 is paid only after AS_OF
    for name in ("customers", "order_count_cv", "on_time_delivery", "days_to_be_paid"):
        assert rows[B1][name] in (None, 0)  # it sells nothing


def test_requested_enterprises_in_order_with_empty_rows() -> None:
    rows = features(DOCS, AS_OF, enterprises=["NOBODY", S])
    assert [r["uscc"] for r in rows] == ["NOBODY", S]
    assert set(rows[0]) == {"uscc", "as_of", *(f for f in FEATURES if f != "core_share")}
    assert all(rows[0][f] is None for f in FEATURES if f != "core_share")


def test_no_look_ahead() -> None:
    before = features(DOCS, AS_OF, cores={B1})
    assert features(DOCS + LATER, AS_OF, cores={B1}) == before
    assert features(list(reversed(DOCS + LATER)), AS_OF, cores={B1}) == before
    # ... and the later documents do count once as_of reaches them
    after = by_uscc(features(DOCS + LATER, date(2026, 4, 30), cores={B1}))
    assert after[S]["customers"] == 3
    assert "NEWCOMER" in after


# ---------------------------------------------------------------- synthetic defaults

# sha256 of repr() of generate_history(YRD small, seed 1): its documents, and its
# (truth, financings, contact overrides), computed before default outcomes were added.
HISTORY_DOCUMENTS_SHA256 = "0173ef809a49d265e4deacc7d1254af064c4c6969817c7579b9c2d9fdac322c5"
HISTORY_REST_SHA256 = "c3682854b5c2db9268dc20163f38f3f0b881ab53d6f9027ed5706c0faf81a25e"


def digests(history: TradeHistory) -> tuple[str, str]:
    docs = hashlib.sha256()
    for d in history.documents:
        docs.update(repr(d).encode())
    rest = repr((history.truth, history.financings, sorted(history.contact_overrides.items())))
    return docs.hexdigest(), hashlib.sha256(rest.encode()).hexdigest()


def test_history_unchanged_and_outcomes_deterministic() -> None:
    region = generate([RegionKey.YRD], Scale.SMALL, seed=1)
    history = generate_history(region, seed=1)
    assert digests(history) == (HISTORY_DOCUMENTS_SHA256, HISTORY_REST_SHA256)
    first = default_outcomes(region, history, seed=1)
    assert first == default_outcomes(region, history, seed=1)
    assert first != default_outcomes(region, history, seed=2)
    assert digests(history) == (HISTORY_DOCUMENTS_SHA256, HISTORY_REST_SHA256)
    cut = default_cutoff(history)
    assert len(first) > 100
    assert sum(o.pd for o in first.values()) / len(first) == pytest.approx(DEFAULT_BASE_RATE)
    for o in first.values():
        if o.defaulted:
            assert o.default_on is not None
            assert cut <= o.default_on < cut + timedelta(days=DEFAULT_HORIZON_DAYS)
        else:
            assert o.default_on is None


def test_outcomes_ignore_documents_after_the_cutoff() -> None:
    region = generate([RegionKey.YRD], Scale.SMALL, seed=1)
    history = generate_history(region, seed=1)
    cut = default_cutoff(history)
    early = TradeHistory(
        documents=tuple(d for d in history.documents if d.issue_date < cut),
        financings=history.financings,
        truth=history.truth,
        contact_overrides=history.contact_overrides,
    )
    assert default_outcomes(region, early, seed=1, cutoff=cut) == default_outcomes(
        region, history, seed=1, cutoff=cut
    )


def test_small_region_end_to_end() -> None:
    """Features at the cut-off, labels from the half year after, a scorecard: better than
    chance on the holdout. A higher base rate than the default, so the small region's ~400
    firms hold enough defaults for a holdout."""
    region = generate(list(RegionKey), Scale.SMALL, seed=42)
    history = generate_history(region, seed=42)
    cut = default_cutoff(history)
    outcomes = default_outcomes(region, history, seed=42, base_rate=0.2)
    firms = sorted(outcomes)
    frame = pd.DataFrame(features(history.documents, cut - timedelta(days=1), enterprises=firms))
    frame = frame.drop(columns=["as_of", "invoice_growth"])  # < 12 months of history
    frame["defaulted"] = [int(outcomes[u].defaulted) for u in firms]
    model = train(frame, "defaulted", options=TrainOptions(id_column="uscc", seed=42))
    metrics = model.card["metrics"]
    assert model.card["split"]["method"] == "stratified-holdout"
    assert metrics["test_bads"] >= 10
    assert metrics["auc"] > 0.5
    assert metrics["baseline_logistic_auc"] > 0.5

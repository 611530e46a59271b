"""Lending: credit lines and their two-phase utilisation, products as configuration,
applications decided by rules with people in the loop (due diligence, maker-checker within
delegated authority), disbursement by pain.001, reconciliation from camt.053, and servicing
(schedules, accrual, repayment allocation, prepayment, extension, arrears, five-category
classification) — every money movement through the bank's double-entry books."""

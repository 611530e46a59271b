"""Pure domain: values, rules and invariants. No I/O and no framework imports.

Everything here is deterministic and testable without a database::

    >>> from chainfin.domain.money import Money
    >>> Money.parse("1234.56", "CNY") + Money.parse("0.44", "CNY")
    Money(amount_minor=123500, currency='CNY')
"""

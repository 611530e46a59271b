"""统一社会信用代码 (Unified Social Credit Identifier, GB 32100-2015).

Eighteen characters from a 31-symbol set (no I, O, S, V, Z):

====  =====================================================================
1     登记管理部门码 registration authority (1-9, A, N, Y)
2     机构类别码 organisation category (for authority 9: 1 企业, 2 个体工商户, 3 合作社)
3-8   登记管理机关行政区划码, a GB/T 2260 region code (digits)
9-17  主体标识码, the GB 11714 organisation code (its 9th character is a MOD 11 check)
18    校验码, the GB 32100 check character (ISO 7064 MOD 31-3 style)
====  =====================================================================

The check character decides validity. The GB 11714 organisation-code check is advisory:
codes issued to 个体工商户 after 2015 need not carry a legacy organisation code.

>>> check_uscc("91110000600037341L").valid
True
>>> check_uscc("91110000600037341N").reason
'check digit should be L'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 3^(i-1) mod 31 for positions 1..17
AUTHORITIES = "123456789ANY"

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True, slots=True)
class UsccCheck:
    """The verdict on one code. ``reason`` is empty when valid."""

    code: str
    valid: bool
    reason: str = ""
    org_code_valid: bool | None = None  # advisory GB 11714 check; None when not applicable

    @property
    def region_code(self) -> str | None:
        return self.code[2:8] if self.valid else None


def normalise(code: str) -> str:
    """Uppercase and drop spaces and hyphens, the separators people type."""
    return code.replace(" ", "").replace("-", "").strip().upper()


def check_character(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def org_code_check(org8: str) -> str | None:
    """The GB 11714 check character for an 8-character organisation code body, or None if
    the body has characters GB 11714 does not define."""
    total = 0
    for ch, w in zip(org8, _ORG_WEIGHTS, strict=True):
        if ch.isdigit():
            total += int(ch) * w
        elif "A" <= ch <= "Z":
            total += (ord(ch) - ord("A") + 10) * w
        else:
            return None
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


@lru_cache(maxsize=65536)
def check_uscc(raw: str) -> UsccCheck:
    """Validate one code; the first failing rule gives the reason (length, then character
    set, then structure, then the check character)."""
    code = normalise(raw)
    if len(code) != 18:
        return UsccCheck(code, False, f"length: expected 18 characters, got {len(code)}")
    bad = [(i + 1, c) for i, c in enumerate(code) if c not in _VALUE]
    if bad:
        pos, ch = bad[0]
        return UsccCheck(
            code, False, f"charset: {ch!r} at position {pos} is not allowed (no I, O, S, V, Z)"
        )
    if code[0] not in AUTHORITIES:
        return UsccCheck(code, False, f"structure: {code[0]!r} is not a registration authority")
    if not code[2:8].isdigit():
        return UsccCheck(code, False, "structure: positions 3-8 must be a 6-digit region code")
    expected = check_character(code[:17])
    if code[17] != expected:
        return UsccCheck(code, False, f"check digit should be {expected}")
    org = org_code_check(code[8:16])
    return UsccCheck(code, True, "", None if org is None else org == code[16])


def make_uscc(authority: str, category: str, region_code: str, org_body8: str) -> str:
    """Build a valid code from its parts (org_body8 = the 8-character organisation code body;
    its GB 11714 check and the GB 32100 check character are computed)."""
    org_check = org_code_check(org_body8)
    if org_check is None or org_check not in _VALUE:
        raise ValueError(f"organisation code body {org_body8!r} has no valid check character")
    first17 = f"{authority}{category}{region_code}{org_body8}{org_check}"
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError(f"cannot build a USCC from {first17!r}")
    return first17 + check_character(first17)

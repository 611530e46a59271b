"""The demo's strategy story: the story bank's head office ranks the chains of each seeded
region on the bank's market data (the synthetic region's export, imported when the region
was seeded) and its live position, and reads the leads of the chain it should pursue first.

Told through :mod:`chainfin.services.strategy`, as the bank's strategist (``<bank>-strategy``),
exactly as the CLI, the API and the workbench page ask it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Bank
from chainfin.demo.lending_story import _staff
from chainfin.domain.access import StaffRole
from chainfin.domain.strategy.regions import named_regions
from chainfin.services import strategy


@dataclass
class StrategyStory:
    lines: list[str] = field(default_factory=list)
    username: str = ""


def _wan(minor: int) -> str:
    return f"{minor / 1_000_000:,.1f} 万元"


def run(session: Session, bank_code: str) -> StrategyStory:
    story = StrategyStory()
    bank = session.scalar(select(Bank).where(Bank.code == bank_code))
    if bank is None:
        story.lines.append(f"no bank {bank_code}: nothing to rank")
        return story
    actor = _staff(session, bank, "strategy", StaffRole.STRATEGIST)
    story.username = f"{bank.code.lower()}-strategy"
    for region in named_regions():
        ranking = strategy.rank(session, actor, region)
        ranked = [c for c in ranking.chains if c.rank is not None]
        if not ranking.chains:
            continue
        story.lines.append(
            f"{region.label_zh} ({region.key}): {len(ranked)} chains ranked, data as of "
            f"{ranking.as_of}, coverage {ranking.coverage.share:.0%}"
        )
        for chain in ranking.chains:
            if chain.rank is None:
                story.lines.append(f"   —  {chain.name}: {'; '.join(chain.excluded_by)}")
                continue
            story.lines.append(
                f"  #{chain.rank} [{chain.rank_low}–{chain.rank_high}] {chain.score:.3f} "
                f"{chain.quadrant:<8} {chain.name}: {chain.reason}"
            )
        if ranked:
            top = ranked[0]
            found = strategy.leads(session, actor, region, top.chain_key, limit=3)
            if not found:
                story.lines.append(
                    "     no leads: the bank serves none of this chain's cores yet (win a core "
                    "first; its suppliers follow)"
                )
            for lead in found:
                story.lines.append(
                    f"     lead: {lead.name} (tier {lead.tier}), score {lead.score:.0f}, "
                    f"indicative limit {_wan(lead.indicative_limit_minor)}"
                )
    return story

"""(being built) The bank workbench's pages for one persona; see docs/workbench.md."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)

"""Fixtures for the API tests: they live in ``apiworld`` so test modules import them by a
name no other directory's ``conftest`` can shadow."""

from apiworld import client, world

__all__ = ["client", "world"]

"""The ``chainfin`` command (see ``chainfin --help``)."""

from chainfin.cli.main import app, main

__all__ = ["app", "main"]

"""Resources: the one shape of every object the platform shows, per area.

Each module here (``credentials``, ``lending``, ``registry``, ...) holds the pydantic models
of its area's resources and views (``LoanOut``, ``CredentialPieceOut``, ...) with a
``build`` class method from the service layer's rows. The API uses them as
``response_model``, the CLI prints them with ``--json`` (``model_dump(mode="json")``) and the
pages render them, so a resource looks the same everywhere.

Conventions (docs/api.md "Conventions"):

* **Amounts** are decimal strings in the currency's major unit with the currency beside
  them: ``{"amount": "1234.56", "currency": "CNY"}`` (never JSON numbers, never fen).
* **Rates** carry their unit in the name: ``*_pct`` is a percentage as a decimal string
  (``"3.85"`` means 3.85 %), ``*_bp`` an integer number of basis points. A bare ``rate`` or
  a fraction (``0.9``) does not appear in any interface.
* **Lists** are pages: ``{"items": [...], "next_cursor": "..." | null}`` (see ``PageOut``).
* **States** are the values of the resource's state machine (``chainfin.domain.states``).

This package sits between the API and the services in the import layers and may not import
FastAPI or the heavy modelling libraries, so the CLI can print resources quickly.
"""

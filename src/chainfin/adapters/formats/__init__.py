"""File formats: tabular CSV/JSON today; UBL and ISO 20022 later."""

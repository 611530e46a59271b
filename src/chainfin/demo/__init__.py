"""Demo support: a deterministic synthetic region (chains, suppliers, dealers, banks) to seed."""

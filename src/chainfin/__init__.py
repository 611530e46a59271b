"""chainfin: industrial-internet finance platform for commercial banks."""

__version__ = "0.1.0"

"""parafraim-build: reproducible video builds for the Parafraim API."""

from __future__ import annotations

__version__ = "0.1.0"

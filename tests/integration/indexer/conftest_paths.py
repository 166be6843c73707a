"""Where the shared research data lives (``../shared/data`` next to the repository)."""

from pathlib import Path

SHARED_DATA = (Path(__file__).resolve().parents[4] / "shared" / "data").resolve()

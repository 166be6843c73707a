from __future__ import annotations

import pytest

from analyzers import Analyzer, get_analyzer


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return get_analyzer()

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import load_spec


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """The parsed openapi.yaml."""
    return load_spec()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

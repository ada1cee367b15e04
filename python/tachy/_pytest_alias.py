"""The ``benchmark`` fixture name, registered by :mod:`tachy.pytest_plugin` only when
pytest-benchmark is not active (its own ``benchmark`` fixture wins then; ``tachy_benchmark``
is always there)."""

import pytest


@pytest.fixture
def benchmark(tachy_benchmark):
    """pytest-benchmark compatible benchmark fixture, measured and analysed by tachy."""
    return tachy_benchmark

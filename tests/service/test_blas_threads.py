"""The service runs numpy's BLAS on `SWITCHBOARD_BLAS_THREADS` threads (default 1)."""

from __future__ import annotations

from litestar.testing import TestClient
from threadpoolctl import threadpool_info


def test_started_service_limits_blas_to_one_thread(client: TestClient) -> None:
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas, "numpy reports no BLAS library"
    assert all(pool["num_threads"] == 1 for pool in blas)

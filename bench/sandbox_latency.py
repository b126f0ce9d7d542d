"""Median request latency of the sandbox on loopback, with and without spec validation.

    python -m bench.sandbox_latency [--requests N]

Each mode gets its own server process and database; the same client issues the same requests.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from cadenya.sandbox import SandboxServer


def measure(validate: bool, requests: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="cadenya-latency-") as temporary:
        server = SandboxServer(Path(temporary) / "latency.db", extra_args=() if validate else ("--no-validate",))
        server.start()
        try:
            account = server.new_account("Latency")
            headers = {"Authorization": f"Bearer {account['apiKey']}"}
            timings: dict[str, list[float]] = {"GET /v1/api-keys/{id}": [], "PATCH /v1/api-keys/{id}": []}
            with httpx.Client(base_url=server.base_url, headers=headers) as client:
                key_id = client.get("/v1/account").json()["info"]["globalApiKey"]["metadata"]["id"]
                for _ in range(20):
                    client.get(f"/v1/api-keys/{key_id}")
                for index in range(requests):
                    started = time.perf_counter()
                    client.get(f"/v1/api-keys/{key_id}").raise_for_status()
                    timings["GET /v1/api-keys/{id}"].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    client.patch(f"/v1/api-keys/{key_id}", json={"description": f"d{index}"}).raise_for_status()
                    timings["PATCH /v1/api-keys/{id}"].append(time.perf_counter() - started)
        finally:
            server.stop()
    return {name: statistics.median(values) * 1000 for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    validated, unvalidated = measure(True, args.requests), measure(False, args.requests)
    print(f"{'request':<26}{'validated ms':>14}{'unvalidated ms':>16}{'ratio':>8}")
    for name in validated:
        print(
            f"{name:<26}{validated[name]:>14.3f}{unvalidated[name]:>16.3f}{validated[name] / unvalidated[name]:>8.2f}"
        )


if __name__ == "__main__":
    main()

"""Contract test: schemathesis, every check and its stateful phase, against a fresh sandbox on loopback.

    python scripts/contract.py [--max-examples N] [--seed S] [--junit PATH]

Exits non-zero on any failure and prints how many cases schemathesis generated.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from cadenya.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parent.parent

# --max-examples bounds every phase; there is deliberately no --max-time, which would make the
# fuzzing and stateful phases repeat until the budget is spent.
# Page tokens are opaque and minted by the server: a generated string is rightly refused with 400,
# which positive_data_acceptance would otherwise report as a valid request rejected.
CONFIG = """\
headers = {{ Authorization = "Bearer {api_key}" }}
request-timeout = 10.0

[parameters]
organization_id = "{account_id}"

[[operations]]
include-operation-id-regex = "^list"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]

# Revoking an API key is a soft delete by contract: the key stays readable, with info.revokedAt, and
# its workspace grants stay listable, while it authenticates nothing. Every other DELETE is a hard one.
[[operations]]
include-operation-id = ["getApiKey", "listApiKeyWorkspaces"]
checks.use_after_free.enabled = false
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=20, help="cases per operation and phase")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--junit", type=Path, help="write schemathesis's JUnit XML report here (make test reads it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cadenya-contract-") as temporary:
        server = SandboxServer(Path(temporary) / "contract.db").start()
        try:
            account = server.new_account("Contract")
            config = Path(temporary) / "schemathesis.toml"
            config.write_text(CONFIG.format(api_key=account["apiKey"], account_id=account["accountId"]))
            command = [
                str(Path(sys.executable).parent / "st"), "--config-file", str(config), "run", str(ROOT / "openapi.yaml"),
                "--url", server.base_url, "--checks", "all", "--seed", str(args.seed),
                "--max-examples", str(args.max_examples), "--workers", "1", "--generation-database", "none",
                "--no-color",
            ]  # fmt: skip
            if args.junit:
                command += ["--report", "junit", "--report-junit-path", str(args.junit.resolve())]
            # Run in the temporary directory: schemathesis keeps its cache (.schemathesis/) in the working one.
            result = subprocess.run(command, cwd=temporary, capture_output=True, text=True, check=False, timeout=600)
        finally:
            server.stop()
    output = result.stdout + result.stderr
    generated = re.search(r"(\d+) generated", output)
    if result.returncode != 0 or generated is None:
        print(output)
        print(f"schemathesis failed (exit {result.returncode})", file=sys.stderr)
        return 1
    summary = output[output.index("SUMMARY") :] if "SUMMARY" in output else output[-3000:]
    print(summary.strip())
    passed = re.search(r"(\d+) passed", summary)
    print(
        f"schemathesis: {generated.group(1)} cases generated, {passed.group(1) if passed else 0} passed, "
        f"seed {args.seed}, no failures"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

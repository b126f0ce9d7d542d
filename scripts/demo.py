"""`make demo`: start the sandbox on a temporary database, run examples/quickstart.py against it, stop."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cadenya.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="cadenya-demo-") as temporary:
        server = SandboxServer(Path(temporary) / "demo.db").start()
        try:
            account = server.new_account("Demo")
            print(f"sandbox on {server.base_url}, account {account['accountId']}\n", flush=True)
            env = {**os.environ, "CADENYA_BASE_URL": server.base_url, "CADENYA_API_KEY": account["apiKey"]}
            result = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")], env=env, check=False)
        finally:
            server.stop()
    print("\nsandbox stopped")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())

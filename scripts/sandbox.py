"""`make sandbox`: serve the API on 127.0.0.1 from .sandbox/sandbox.db, creating an account the first time."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from cadenya.sandbox import Store, free_port

ROOT = Path(__file__).resolve().parent.parent

STATE = ROOT / ".sandbox"


def main() -> int:
    STATE.mkdir(exist_ok=True)
    db, credentials = STATE / "sandbox.db", STATE / "account.json"
    if not credentials.exists():
        account = Store(db).create_account("Sandbox")
        descriptor = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(account, handle)
    account = json.loads(credentials.read_text())
    port = int(os.environ.get("PORT", "0")) or free_port()
    print(f"Cadenya sandbox: http://127.0.0.1:{port}  (database {db.relative_to(ROOT)})")
    print(f"  export CADENYA_BASE_URL=http://127.0.0.1:{port}")
    print(f"  export CADENYA_API_KEY={account['apiKey']}")
    print(f"  account {account['accountId']}; session token in {credentials.relative_to(ROOT)}; Ctrl-C stops")
    sys.stdout.flush()
    command = [
        sys.executable,
        "-m",
        "cadenya.sandbox",
        "serve",
        "--db",
        str(db),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    os.execv(sys.executable, command)  # noqa: S606


if __name__ == "__main__":
    sys.exit(main())

"""`make sandbox`: serve the API on 127.0.0.1 from .sandbox/sandbox.db, creating an account the first time.

    make sandbox                                   port 8765
    make sandbox PORT=9000                         another port
    make sandbox WEBHOOK_URL=http://127.0.0.1:9100/hooks   deliver signed account events there
    make sandbox FAULTS=1                          honour the X-Sandbox-Fault header (to watch retries work)

It prints the export lines to paste into another shell. The account and the database persist in .sandbox/
between runs, so those lines stay valid; a new account is made if the database is gone, and a saved API key
that was rotated since is reported with how to start over (`rm -rf .sandbox`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cadenya.sandbox import Store
from cadenya.sandbox.__main__ import cannot_listen, port_number, webhook_url

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".sandbox"
DEFAULT_PORT = 8765


class StaleCredentials(Exception):
    """The saved API key no longer authenticates against the database it was saved for."""


def account_credentials(db: Path, credentials: Path) -> dict[str, str]:
    """The sandbox's account: created, with its tokens saved owner-readable only, the first time and again
    whenever the database is gone. `StaleCredentials` when the saved API key no longer authenticates."""
    if not db.exists():
        # Credentials, and a write-ahead log, of a database that was deleted: start over.
        for leftover in (credentials, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            leftover.unlink(missing_ok=True)
    if not credentials.exists():
        with Store(db) as store:
            account = store.create_account("Sandbox")
        descriptor = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(account, handle)
    loaded: dict[str, str] = json.loads(credentials.read_text())
    with Store(db) as store:
        if not store.authenticates(loaded["apiKey"]):
            raise StaleCredentials(
                f"the API key saved in {credentials} no longer authenticates (it was rotated or revoked);"
                f" start over, with a new account and database: rm -rf {credentials.parent}"
            )
    return loaded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT)
    parser.add_argument("--webhook-url", type=webhook_url, help="deliver signed account events to this URL")
    parser.add_argument("--faults", action="store_true", help="honour the X-Sandbox-Fault test header")
    args = parser.parse_args(argv)
    if cannot_listen("127.0.0.1", args.port) is not None:
        print(f"port {args.port} is in use; choose another with: make sandbox PORT=<port>", file=sys.stderr)
        return 2
    STATE.mkdir(exist_ok=True)
    db = STATE / "sandbox.db"
    credentials = STATE / "account.json"
    try:
        account = account_credentials(db, credentials)
    except StaleCredentials as error:
        print(f"make sandbox: {error}", file=sys.stderr)
        return 1
    base_url = f"http://127.0.0.1:{args.port}"
    print(f"Cadenya sandbox: {base_url}  (database {db.relative_to(ROOT)}; Ctrl-C stops)")
    print("Paste into another shell:")
    print(f"  export CADENYA_BASE_URL={base_url}")
    print(f"  export CADENYA_API_KEY={account['apiKey']}")
    print(f"Account {account['accountId']}; its session token is in {credentials.relative_to(ROOT)}.")
    if args.webhook_url:
        print(f"Webhooks: signed account events go to {args.webhook_url}")
    if args.faults:
        print("Fault switch on: a request with `X-Sandbox-Fault: status=503; times=2` fails that way twice,")
        print("  then passes (the client retries it); see the README's section on the sandbox for every fault.")
    sys.stdout.flush()
    command = [sys.executable, "-m", "cadenya.sandbox", "serve", "--db", str(db), "--port", str(args.port)]
    if args.webhook_url:
        command += ["--webhook-url", args.webhook_url]
    if args.faults:
        command.append("--faults")
    os.execv(sys.executable, command)  # noqa: S606


if __name__ == "__main__":
    sys.exit(main())

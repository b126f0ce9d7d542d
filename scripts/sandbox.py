"""`make sandbox`: serve the API on 127.0.0.1 from .sandbox/sandbox.db, creating an account the first time.

    make sandbox                                   port 8765
    make sandbox PORT=9000                         another port
    make sandbox WEBHOOK_URL=http://127.0.0.1:9100/hooks   deliver signed account events there
    make sandbox FAULTS=1                          honour the X-Sandbox-Fault header (to watch retries work)

It prints the export lines to paste into another shell. The account and the database persist in .sandbox/
between runs, so those lines stay valid; a new account is made if the database is gone. The key it prints
always works: when the saved one was rotated since (examples/rotate_key.py rotates the key it runs with),
the account's system key gets a new token, saved and printed in its place, and the account keeps its data.
`rm -rf .sandbox` starts over with a new account and database; `--state DIR` keeps them in DIR instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from cadenya.sandbox import Store
from cadenya.sandbox.__main__ import cannot_listen, port_number, webhook_url

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".sandbox"
DEFAULT_PORT = 8765


def account_credentials(db: Path, credentials: Path) -> tuple[dict[str, str], str | None]:
    """The sandbox's account, with an API key that authenticates, and what was renewed to get it (None:
    nothing). The account is created, its tokens saved owner-readable only, the first time and again
    whenever the database is gone or no longer holds it; a saved API key that no longer authenticates (it
    was rotated) is replaced by a new token of the account's system key."""
    if not db.exists():
        # Credentials, and a write-ahead log, of a database that was deleted: start over.
        for leftover in (credentials, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            leftover.unlink(missing_ok=True)
    with Store(db) as store:
        if not credentials.exists():
            account = store.create_account("Sandbox")
            _save(credentials, account)
            return account, None
        saved: dict[str, str] = json.loads(credentials.read_text())
        if store.authenticates(saved["apiKey"]):
            return saved, None
        token = store.reissue_system_key(saved["accountId"])
        if token is not None:
            renewed = {**saved, "apiKey": token}
            note = (
                f"the API key saved in {_shown(credentials)} was rotated since: the account's system key has a new"
                " token, below, and the one before it no longer works"
            )
        else:
            renewed = store.create_account("Sandbox")
            note = f"the database no longer holds account {saved['accountId']}: a new account was created in it"
        _save(credentials, renewed)
        return renewed, note


def _save(credentials: Path, account: dict[str, Any]) -> None:
    """Write the account's tokens to `credentials`, readable by its owner only, replacing it whole."""
    temporary = credentials.with_name(credentials.name + ".new")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(account, handle)
    temporary.replace(credentials)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT)
    parser.add_argument("--webhook-url", type=webhook_url, help="deliver signed account events to this URL")
    parser.add_argument("--faults", action="store_true", help="honour the X-Sandbox-Fault test header")
    parser.add_argument("--state", type=Path, default=STATE, help="the directory of the database and the account")
    args = parser.parse_args(argv)
    if cannot_listen("127.0.0.1", args.port) is not None:
        print(f"port {args.port} is in use; choose another with: make sandbox PORT=<port>", file=sys.stderr)
        return 2
    state: Path = args.state.resolve()
    state.mkdir(exist_ok=True)
    db = state / "sandbox.db"
    credentials = state / "account.json"
    account, renewed = account_credentials(db, credentials)
    base_url = f"http://127.0.0.1:{args.port}"
    if renewed:
        print(f"make sandbox: {renewed}")
    print(f"Cadenya sandbox: {base_url}  (database {_shown(db)}; Ctrl-C stops)")
    print("Paste into another shell:")
    print(f"  export CADENYA_BASE_URL={base_url}")
    print(f"  export CADENYA_API_KEY={account['apiKey']}")
    print(f"Account {account['accountId']}; its session token is in {_shown(credentials)}.")
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


def _shown(path: Path) -> str:
    """`path` relative to the checkout when it is inside it (.sandbox/sandbox.db), else as it is."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


if __name__ == "__main__":
    sys.exit(main())

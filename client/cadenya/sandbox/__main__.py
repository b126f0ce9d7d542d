"""Command line of the sandbox: the `cadenya-sandbox` console script, and `python -m cadenya.sandbox`.

cadenya-sandbox create-account --db PATH --name NAME
cadenya-sandbox serve --db PATH [--host 127.0.0.1] [--port 8765] [--webhook-url URL] [--faults]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ._store import Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cadenya-sandbox", description="A local server of the Cadenya API.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-account", help="create an account; print its tokens as JSON, once")
    create.add_argument("--db", type=Path, required=True, help="SQLite database file (created if missing)")
    create.add_argument("--name", required=True, help="the account's display name")
    create.add_argument("--email", help="the account owner's email")
    serve = commands.add_parser("serve", help="serve the API over HTTP")
    serve.add_argument("--db", type=Path, required=True, help="SQLite database file (created if missing)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--no-validate", action="store_true", help="skip spec validation (for measurements only)")
    serve.add_argument("--webhook-url", help="deliver signed account events to this URL")
    serve.add_argument("--faults", action="store_true", help="honour the X-Sandbox-Fault test header")
    serve.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)

    if args.command == "create-account":
        with Store(args.db) as store:
            created = store.create_account(args.name, email=args.email)
        print(json.dumps(created))
        return 0

    import uvicorn

    from ._app import create_app

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(args.db, validate=not args.no_validate, webhook_url=args.webhook_url, faults=args.faults)
    print(f"sandbox listening on http://{args.host}:{args.port} (database {args.db})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=args.log_level == "debug")
    return 0


if __name__ == "__main__":
    sys.exit(main())

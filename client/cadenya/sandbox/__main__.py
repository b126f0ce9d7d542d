"""Command line of the sandbox: the `cadenya-sandbox` console script, and `python -m cadenya.sandbox`.

cadenya-sandbox create-account --db PATH --name NAME
cadenya-sandbox serve --db PATH [--host 127.0.0.1] [--port 8765] [--webhook-url URL] [--faults]
                      [--session-ttl SECONDS] [--header-timeout SECONDS] [--max-connections N]
                      [--exit-with-parent]
cadenya-sandbox webhook-url --db PATH --account ACCOUNT_ID (URL | --clear)
cadenya-sandbox deliveries --db PATH --account ACCOUNT_ID [--json]
cadenya-sandbox redeliver --db PATH MESSAGE_ID
cadenya-sandbox trigger EVENT_TYPE [--base-url URL] [--api-key KEY]

The database commands work while `serve` runs on the same database: a changed webhook URL applies from the
next delivery attempt on, and a redelivery is sent within a second. A startup error (port in use, key file
missing, database unreadable) and a lookup that finds nothing are one line on stderr and status 2; so is
every command without the `sandbox` extra installed, which says what is missing and how to install it.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import socket
import sqlite3
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cadenya.lib._http import default_library

from ._extra import missing_extra, missing_modules

# The sandbox's own modules import the extra's packages: the command imports them once it knows the extra
# is installed, so that without it, it says what to install in one line instead of failing on an import.
if TYPE_CHECKING:
    from ._store import Store


def database_path(text: str) -> Path:
    """The `--db` argument: a file in a directory that exists (the file itself is created if missing)."""
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the directory {str(path.parent)!r} does not exist")
    return path


def webhook_url(text: str) -> str:
    """The `--webhook-url` argument: an http or https URL with a host, as the HTTP library (which delivers)
    parses it."""
    library = default_library()
    try:
        url: Any = library.URL(text)
    except library.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host or (url.port or 0) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid http:// or https:// URL with a host")
    return text


def port_number(text: str) -> int:
    """The `--port` argument: a TCP port, 1 to 65535."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number from 1 to 65535")
    return int(text)


def positive_seconds(text: str) -> float:
    """A `--session-ttl` or `--header-timeout` argument: a number of seconds above zero."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above zero")
    return seconds


def positive_count(text: str) -> int:
    """The `--max-connections` argument: a whole number above zero."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above zero")
    return int(text)


def cannot_listen(host: str, port: int) -> str | None:
    """Why the server could not listen on `host`:`port` (bound as uvicorn binds it), or None if it can."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is in use; choose another with --port"
            return f"cannot listen on {host}:{port} ({error.strerror or error}); check --host and --port"
    return None


def main(argv: list[str] | None = None) -> int:
    missing = missing_modules()
    if missing:
        print(f"cadenya-sandbox: {missing_extra(missing)}", file=sys.stderr)
        return 2
    from ._server import HEADER_TIMEOUT, MAX_CONNECTIONS
    from ._store import SESSION_TTL, StoreUnusable

    parser = argparse.ArgumentParser(prog="cadenya-sandbox", description="A local server of the Cadenya API.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-account", help="create an account; print its tokens as JSON, once")
    create.add_argument("--db", type=database_path, required=True, help="SQLite database file (created if missing)")
    create.add_argument("--name", required=True, help="the account's display name")
    create.add_argument("--email", help="the account owner's email")
    serve = commands.add_parser("serve", help="serve the API over HTTP")
    serve.add_argument("--db", type=database_path, required=True, help="SQLite database file (created if missing)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    serve.add_argument("--port", type=port_number, default=8765)
    serve.add_argument("--no-validate", action="store_true", help="skip spec validation (for measurements only)")
    serve.add_argument("--webhook-url", type=webhook_url, help="deliver signed account events to this URL")
    serve.add_argument("--faults", action="store_true", help="honour the X-Sandbox-Fault test header")
    serve.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--session-ttl", type=positive_seconds, default=SESSION_TTL, metavar="SECONDS",
        help=f"seconds a session token is accepted after it is issued (default: {SESSION_TTL:g}, 12 hours)",
    )  # fmt: skip
    serve.add_argument(
        "--header-timeout", type=positive_seconds, default=HEADER_TIMEOUT, metavar="SECONDS",
        help=f"seconds a connection has to send a request's headers before it is closed (default: {HEADER_TIMEOUT:g})",
    )  # fmt: skip
    serve.add_argument(
        "--max-connections", type=positive_count, default=MAX_CONNECTIONS, metavar="N",
        help=f"open connections beyond which requests are answered 503 (default: {MAX_CONNECTIONS})",
    )  # fmt: skip
    serve.add_argument(
        "--exit-with-parent", action="store_true",
        help="stop when standard input closes: the process that started this one holds it open, and dies with it",
    )  # fmt: skip
    hook = commands.add_parser("webhook-url", help="set or clear where an account's events are delivered")
    hook.add_argument("--db", type=database_path, required=True, help="the sandbox's SQLite database file")
    hook.add_argument("--account", required=True, help="the account id (acct_...)")
    where = hook.add_mutually_exclusive_group(required=True)
    where.add_argument("url", nargs="?", type=webhook_url, help="the http(s) URL to deliver to")
    where.add_argument("--clear", action="store_true", help="deliver to serve's --webhook-url, if any, instead")
    listed = commands.add_parser("deliveries", help="list an account's events: id, type, attempts, last status")
    listed.add_argument("--db", type=database_path, required=True, help="the sandbox's SQLite database file")
    listed.add_argument("--account", required=True, help="the account id (acct_...)")
    listed.add_argument("--json", action="store_true", help="one JSON object per line")
    again = commands.add_parser("redeliver", help="send an event again, with its id and payload")
    again.add_argument("--db", type=database_path, required=True, help="the sandbox's SQLite database file")
    again.add_argument("message_id", help="the event's id (msg_..., its webhook-id header)")
    cause = commands.add_parser("trigger", help="make an event happen by doing what causes it, through the API")
    cause.add_argument("event_type", help="api_key.created, api_key.rotated, api_key.revoked or webhook_secret.rotated")
    cause.add_argument("--base-url", default="http://127.0.0.1:8765", help="the running sandbox (default: %(default)s)")
    cause.add_argument("--api-key", default=os.environ.get("CADENYA_API_KEY"),
                       help="a key of the account, as create-account prints it (default: $CADENYA_API_KEY)")  # fmt: skip
    args = parser.parse_args(argv)
    runs = {
        "create-account": run_create_account,
        "serve": run_server,
        "webhook-url": run_webhook_url,
        "deliveries": run_deliveries,
        "redeliver": run_redeliver,
        "trigger": run_trigger,
    }
    try:
        return runs[args.command](args)
    except LookupError as error:
        print(f"cadenya-sandbox: {not_found(error)}", file=sys.stderr)
        return 2
    except (StoreUnusable, sqlite3.Error, OSError) as error:
        print(f"cadenya-sandbox: {startup_error(getattr(args, 'db', Path('.')), error)}", file=sys.stderr)
        return 2


def _open_store(db: Path) -> Store:
    from ._store import Store

    return Store(db)


def not_found(error: LookupError) -> str:
    from ._webhooks import UnknownAccount

    what = "account" if isinstance(error, UnknownAccount) else "event"
    return f"no {what} {error.args[0]!r} in this database"


def run_webhook_url(args: argparse.Namespace) -> int:
    from ._webhooks import set_webhook_url

    with _open_store(args.db) as store:
        set_webhook_url(store, args.account, None if args.clear else args.url)
    print(f"{args.account}: events go to {'the --webhook-url of serve, if any' if args.clear else args.url}")
    return 0


def run_deliveries(args: argparse.Namespace) -> int:
    from ._webhooks import deliveries

    with _open_store(args.db) as store:
        records = deliveries(store, args.account)
    if args.json:
        for record in records:
            print(json.dumps(record.__dict__))
        return 0
    print(f"{'event id':<32}  {'type':<24}  {'attempts':>8}  {'last status':<16}  state")
    for record in records:
        print(f"{record.message_id:<32}  {record.event_type:<24}  {record.attempts:>8}  "
              f"{record.last_status or '-':<16}  {record.state}")  # fmt: skip
    return 0


def run_redeliver(args: argparse.Namespace) -> int:
    from ._webhooks import redeliver

    with _open_store(args.db) as store:
        redeliver(store, args.message_id)
    print(f"{args.message_id}: queued again")
    return 0


def run_trigger(args: argparse.Namespace) -> int:
    import cadenya

    from ._trigger import TRIGGERS, trigger

    if args.event_type not in TRIGGERS:
        print(f"cadenya-sandbox: no trigger for {args.event_type!r}; the types are: {', '.join(TRIGGERS)}",
              file=sys.stderr)  # fmt: skip
        return 2
    if not args.api_key:
        print("cadenya-sandbox: trigger needs --api-key (or $CADENYA_API_KEY): a key of the account", file=sys.stderr)
        return 2
    try:
        with cadenya.Cadenya(token=args.api_key, base_url=args.base_url, max_retries=0) as client:
            done: dict[str, Any] = trigger(client, args.event_type)
    except cadenya.CadenyaError as error:
        print(f"cadenya-sandbox: trigger {args.event_type} failed: {error}", file=sys.stderr)
        return 1
    print(json.dumps(done))
    return 0


def startup_error(db: Path, error: Exception) -> str:
    """One line that says why the sandbox could not start."""
    from ._store import StoreUnusable

    if isinstance(error, StoreUnusable):
        return str(error)
    if isinstance(error, OSError):
        return f"cannot open {error.filename or str(db)!r}: {error.strerror or error}"
    return f"cannot use the database {str(db)!r}: {error}"


def run_create_account(args: argparse.Namespace) -> int:
    with _open_store(args.db) as store:
        created = store.create_account(args.name, email=args.email)
    print(json.dumps(created))
    return 0


def run_server(args: argparse.Namespace) -> int:
    problem = cannot_listen(args.host, args.port)
    if problem is not None:
        print(f"cadenya-sandbox: {problem}", file=sys.stderr)
        return 2

    import uvicorn

    from ._app import create_app
    from ._server import server_config

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(
        args.db,
        validate=not args.no_validate,
        webhook_url=args.webhook_url,
        faults=args.faults,
        session_ttl=args.session_ttl,
    )
    config = server_config(
        app,
        host=args.host,
        port=args.port,
        header_timeout=args.header_timeout,
        max_connections=args.max_connections,
        log_level=args.log_level,
    )
    print(f"sandbox listening on http://{args.host}:{args.port} (database {args.db})", flush=True)
    server = uvicorn.Server(config)
    if args.exit_with_parent:
        threading.Thread(target=_exit_when_stdin_closes, args=(server,), name="parent-watch", daemon=True).start()
    server.run()
    return 0


def _exit_when_stdin_closes(server: Any) -> None:
    """Shut the server down when standard input reaches its end: the process holding its other end is gone,
    however it ended (kill -9 included). A server that does not stop within 5 s is ended at once."""
    with contextlib.suppress(OSError, ValueError):
        while sys.stdin.buffer.read(65536):
            pass
    server.should_exit = True
    deadline = threading.Timer(5.0, os._exit, args=(0,))
    deadline.daemon = True
    deadline.start()


if __name__ == "__main__":
    sys.exit(main())

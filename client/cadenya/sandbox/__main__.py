"""Command line of the sandbox: the `cadenya-sandbox` console script, and `python -m cadenya.sandbox`.

cadenya-sandbox create-account --db PATH --name NAME
cadenya-sandbox serve --db PATH [--host 127.0.0.1] [--port 8765] [--webhook-url URL] [--faults]
                      [--session-ttl SECONDS] [--header-timeout SECONDS] [--max-connections N]

A startup error (port in use, key file missing, database unreadable) is one line on stderr and status 2.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import socket
import sqlite3
import sys
from pathlib import Path

import httpx

from ._server import HEADER_TIMEOUT, MAX_CONNECTIONS
from ._store import SESSION_TTL, Store, StoreUnusable


def database_path(text: str) -> Path:
    """The `--db` argument: a file in a directory that exists (the file itself is created if missing)."""
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the directory {str(path.parent)!r} does not exist")
    return path


def webhook_url(text: str) -> str:
    """The `--webhook-url` argument: an http or https URL with a host, as httpx (which delivers) parses it."""
    try:
        url: httpx.URL | None = httpx.URL(text)
    except httpx.InvalidURL:
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
    args = parser.parse_args(argv)
    try:
        return run_create_account(args) if args.command == "create-account" else run_server(args)
    except (StoreUnusable, sqlite3.Error, OSError) as error:
        print(f"cadenya-sandbox: {startup_error(args.db, error)}", file=sys.stderr)
        return 2


def startup_error(db: Path, error: Exception) -> str:
    """One line that says why the sandbox could not start."""
    if isinstance(error, StoreUnusable):
        return str(error)
    if isinstance(error, OSError):
        return f"cannot open {error.filename or str(db)!r}: {error.strerror or error}"
    return f"cannot use the database {str(db)!r}: {error}"


def run_create_account(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
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
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

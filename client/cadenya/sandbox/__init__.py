"""A stateful local server of the Cadenya API, driven by openapi.yaml and backed by SQLite.

    cadenya-sandbox create-account --db PATH --name NAME
    cadenya-sandbox serve --db PATH [--host 127.0.0.1] [--port 8765] [--webhook-url URL] [--faults]
    cadenya-sandbox webhook-url | deliveries | redeliver | trigger ...   (see --help)

For tests and scripts, `with Sandbox() as sandbox:` starts one and hands out accounts, clients and webhook
receivers; the pytest plugin gives the same as fixtures (`cadenya_sandbox`, `cadenya_client`, ...).

(`python -m cadenya.sandbox` is the same command.) It needs the `sandbox` extra:
`pip install 'cadenya[sandbox]'`; the client itself never imports this package. Without the extra, the
command says so in one line and exits with status 2, and `from cadenya.sandbox import Sandbox` (any name of
this package) raises a ModuleNotFoundError that names the missing packages and the install command.
"""

from typing import TYPE_CHECKING, Any

from ._extra import missing_extra, missing_modules

_missing = missing_modules()
if not _missing or TYPE_CHECKING:
    from ._app import create_app
    from ._process import SandboxServer, free_port, wait_until_listening
    from ._store import Store
    from ._testing import Sandbox, SandboxAccount, WebhookReceiver, WebhookTimeout, fault_header
    from ._webhooks import DeliveryRecord
else:

    def __getattr__(name: str) -> Any:
        """Without the extra, this package imports (so that `cadenya-sandbox` can say what is missing in one
        line) but each of its names raises the ModuleNotFoundError that says what to install."""
        if name in __all__:
            raise ModuleNotFoundError(missing_extra(_missing), name=_missing[0])
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DeliveryRecord",
    "Sandbox",
    "SandboxAccount",
    "SandboxServer",
    "Store",
    "WebhookReceiver",
    "WebhookTimeout",
    "create_app",
    "fault_header",
    "free_port",
    "wait_until_listening",
]

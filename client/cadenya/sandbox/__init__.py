"""A stateful local server of the Cadenya API, driven by openapi.yaml and backed by SQLite.

    cadenya-sandbox create-account --db PATH --name NAME
    cadenya-sandbox serve --db PATH [--host 127.0.0.1] [--port 8765] [--webhook-url URL] [--faults]
    cadenya-sandbox webhook-url | deliveries | redeliver | trigger ...   (see --help)

For tests and scripts, `with Sandbox() as sandbox:` starts one and hands out accounts, clients and webhook
receivers; the pytest plugin gives the same as fixtures (`cadenya_sandbox`, `cadenya_client`, ...).

(`python -m cadenya.sandbox` is the same command.) It needs the `sandbox` extra:
`pip install 'cadenya[sandbox]'`; the client itself never imports this package.
"""

import importlib

# Import name -> the distribution the `sandbox` extra installs for it.
_REQUIRED = {
    "starlette": "starlette",
    "uvicorn": "uvicorn",
    "jsonschema": "jsonschema",
    "referencing": "referencing",
    "cryptography": "cryptography",
    "yaml": "pyyaml",
}


def _missing_distributions() -> list[str]:
    missing = []
    for module, distribution in _REQUIRED.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(distribution)
    return sorted(missing)


_missing = _missing_distributions()
if _missing:
    raise ModuleNotFoundError(
        f"cadenya.sandbox needs the 'sandbox' extra (missing: {', '.join(_missing)}); "
        "install it with: pip install 'cadenya[sandbox]'",
        name=_missing[0],
    )

from ._app import create_app  # noqa: E402
from ._process import SandboxServer, free_port, wait_until_listening  # noqa: E402
from ._store import Store  # noqa: E402
from ._testing import Sandbox, SandboxAccount, WebhookReceiver, WebhookTimeout, fault_header  # noqa: E402
from ._webhooks import DeliveryRecord  # noqa: E402

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

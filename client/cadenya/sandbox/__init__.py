"""A stateful local server of the Cadenya API, driven by openapi.yaml and backed by SQLite.

python -m cadenya.sandbox create-account --db PATH --name NAME
python -m cadenya.sandbox serve --db PATH --host 127.0.0.1 --port N
"""

from ._app import create_app
from ._process import SandboxServer, free_port, wait_until_listening
from ._store import Store

__all__ = ["SandboxServer", "Store", "create_app", "free_port", "wait_until_listening"]

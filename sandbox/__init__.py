"""A stateful local server of the Cadenya API, driven by openapi.yaml and backed by SQLite.

python -m sandbox create-account --db PATH --name NAME
python -m sandbox serve --db PATH --host 127.0.0.1 --port N
"""

from sandbox._app import create_app
from sandbox._process import ROOT, SandboxServer, free_port, wait_until_listening
from sandbox._store import Store

__all__ = ["ROOT", "SandboxServer", "Store", "create_app", "free_port", "wait_until_listening"]

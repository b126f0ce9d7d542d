"""Run pytest with httpx2 as the HTTP library of everything: the SDK's clients and the tests' own.

    python -m scripts.pytest_over_httpx2 [pytest arguments]

`import httpx` resolves to httpx2 in this process and in every process the tests start (the `sitecustomize`
of scripts/httpx2_alias/, put on PYTHONPATH), so a test that builds an `httpx.MockTransport` builds httpx2's;
$CADENYA_HTTP_LIBRARY=httpx2 makes the SDK and the sandbox choose httpx2 too.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

ALIAS = Path(__file__).resolve().parent / "httpx2_alias"


def main() -> int:
    os.environ["CADENYA_HTTP_LIBRARY"] = "httpx2"
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ALIAS), os.environ.get("PYTHONPATH")]))
    runpy.run_path(str(ALIAS / "sitecustomize.py"))  # the alias in this process, as in the ones it starts
    import pytest

    return pytest.main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())

"""Whether the `sandbox` extra is installed, and the one line that says what to install when it is not.

Imports nothing outside the standard library, so that `cadenya.sandbox` and `cadenya-sandbox` can say what
is missing instead of failing on an import of it.
"""

from __future__ import annotations

import importlib

# Import name -> the distribution the `sandbox` extra installs for it.
REQUIRED = {
    "starlette": "starlette",
    "uvicorn": "uvicorn",
    "jsonschema": "jsonschema",
    "referencing": "referencing",
    "cryptography": "cryptography",
    "yaml": "pyyaml",
}


def missing_modules() -> list[str]:
    """The import names of the extra that do not import, in the order of `REQUIRED`."""
    missing = []
    for module in REQUIRED:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    return missing


def missing_extra(missing: list[str]) -> str:
    """What to install, in one line, when the modules `missing` do not import."""
    distributions = ", ".join(sorted(REQUIRED[module] for module in missing))
    return (
        f"cadenya.sandbox needs the 'sandbox' extra (missing: {distributions}); "
        "install it with: pip install 'cadenya[sandbox]'"
    )

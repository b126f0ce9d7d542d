"""Run uv with the package indexes pip is configured with.

uv reads its own settings, not pip's. Whatever a machine tells pip (`pip config list`: its configuration
files and PIP_* variables) is translated into the matching UV_* variables, so that the venvs of this
repository (`make`'s own, and every nox cell's) install from the same places pip would. A UV_* variable
already set wins. Standard library only: it runs before the venv has anything but pip and uv.

    python -m scripts.uv_settings uv pip install ...     run a command with those variables

uv's default picks each package from the first index that has it; pip compares every index. The project
asks for pip's way (UV_INDEX_STRATEGY=unsafe-best-match), or an exact lowest pin (scripts/dependencies.py)
found only on a later index would not resolve.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Mapping

# `pip config list` has already merged pip's files; what is left is the section of each option. The command's
# own section beats [global], and PIP_* variables (shown as ":env:") beat both.
SECTIONS = ("global", "install", ":env:")
# pip option -> (uv variable, separator uv reads the list with, or None for a single value)
TRANSLATION = {
    "index-url": ("UV_DEFAULT_INDEX", None),
    "extra-index-url": ("UV_INDEX", " "),
    "find-links": ("UV_FIND_LINKS", ","),
    "constraint": ("UV_CONSTRAINT", " "),
    "cert": ("SSL_CERT_FILE", None),
    "default-timeout": ("UV_HTTP_TIMEOUT", None),
    "timeout": ("UV_HTTP_TIMEOUT", None),
}
PROJECT_SETTINGS = {
    "UV_INDEX_STRATEGY": "unsafe-best-match",
    # Interpreters come from the machine (noxfile.py finds them), never from a download.
    "UV_PYTHON_DOWNLOADS": "never",
}


def parse_pip_config(listing: str) -> dict[str, str]:
    """pip's options from `pip config list` output (`scope.option='value'` lines), the strongest scope winning."""
    found: dict[tuple[int, str], str] = {}
    for line in listing.splitlines():
        key, sep, quoted = line.strip().partition("=")
        section, dot, option = key.rpartition(".")
        if not (sep and dot and section in SECTIONS):
            continue
        value = ast.literal_eval(quoted) if quoted[:1] in ("'", '"') else quoted
        found[(SECTIONS.index(section), option)] = str(value)
    return {option: value for (_, option), value in sorted(found.items())}


def uv_environment(pip_options: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """The UV_* variables (and SSL_CERT_FILE) for `pip_options`; those already in `environ` are kept as they are."""
    settings: dict[str, str] = {}
    for option, value in pip_options.items():
        if option not in TRANSLATION:
            continue
        variable, separator = TRANSLATION[option]
        settings[variable] = separator.join(value.split()) if separator else value.strip()
    settings.update(PROJECT_SETTINGS)
    return {variable: value for variable, value in settings.items() if variable not in environ}


def pip_config_listing(python: str = sys.executable) -> str:
    """`pip config list` as the given interpreter's pip sees it; empty when that Python has no pip."""
    result = subprocess.run(
        [python, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False, env=os.environ
    )
    return result.stdout if result.returncode == 0 else ""


def apply() -> dict[str, str]:
    """Put the translated variables into this process's environment (children inherit them); returns them."""
    added = uv_environment(parse_pip_config(pip_config_listing()), os.environ)
    os.environ.update(added)
    return added


def main(argv: list[str]) -> int:
    if not argv:
        for variable, value in sorted(uv_environment(parse_pip_config(pip_config_listing()), os.environ).items()):
            print(f"{variable}={value}")
        return 0
    apply()
    return subprocess.run(argv, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

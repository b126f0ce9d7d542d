"""`make release-check`: build the sdist and the wheel as a release would, and use them as a user would.

1. Build both with `python -m build` (isolated, the pinned hatchling) and check their metadata with `twine check --strict`.
2. Check the wheel's contents: the package, its spec and py.typed, the sandbox; no tests, no build leftovers.
3. Install the wheel alone into a fresh venv in a temporary directory, away from this checkout: the client,
   every operation module and the resource client import, and `from cadenya.sandbox import Sandbox` says which extra is missing.
4. Install `cadenya[sandbox]` from the wheel there: `cadenya-sandbox create-account` and `cadenya-sandbox serve`
   run from that directory, and examples/quickstart.py, run by that venv's Python, passes against it.

Prints the wheel's file list; exits non-zero at the first failure, saying which step failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from cadenya.sandbox import free_port, wait_until_listening

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

REQUIRED_IN_WHEEL = (
    "cadenya/__init__.py",
    "cadenya/py.typed",
    "cadenya/openapi.yaml",
    "cadenya/_client.py",
    "cadenya/lib/_send.py",
    "cadenya/sandbox/__main__.py",
    "cadenya/sandbox/_app.py",
)
REQUIRED_IN_SDIST = ("pyproject.toml", "README.md", "LICENSE", "openapi.yaml", "client/cadenya/__init__.py")

IMPORT_EVERYTHING = """
import importlib, pkgutil, sys
import cadenya, cadenya.api, cadenya.resources
from cadenya import AsyncCadenya, Cadenya
count = 0
for package in (cadenya.api, cadenya.resources):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
        count += 1
assert "starlette" not in sys.modules and "uvicorn" not in sys.modules, "the client imported the sandbox's dependencies"
try:
    from cadenya.sandbox import Sandbox
except ModuleNotFoundError as error:
    assert "pip install 'cadenya[sandbox]'" in str(error), error
else:
    raise AssertionError("cadenya.sandbox imported without the sandbox extra")
print(f"cadenya {cadenya.__version__}: {count} modules import without extras; cadenya.sandbox names its extra")
"""


def run(*command: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"release check failed: {' '.join(map(str, command))}\n{result.stdout}{result.stderr}")
    return result.stdout


def check_contents(wheel: Path, sdist: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    missing = [name for name in REQUIRED_IN_WHEEL if name not in names]
    unwanted = [name for name in names if name.startswith(("tests/", "scripts/", "bench/")) or "__pycache__" in name]
    if missing or unwanted:
        raise SystemExit(f"release check failed: wheel contents: missing {missing}, unwanted {unwanted}")
    with tarfile.open(sdist) as archive:
        root = archive.getnames()[0].split("/")[0]
        sdist_names = {name.removeprefix(root + "/") for name in archive.getnames()}
    missing = [name for name in REQUIRED_IN_SDIST if name not in sdist_names]
    if missing:
        raise SystemExit(f"release check failed: sdist lacks {missing}")
    print(f"wheel {wheel.name}: {len(names)} files")
    for name in names:
        print(f"  {name}")
    print(f"sdist {sdist.name}: {len(sdist_names)} files, with {', '.join(REQUIRED_IN_SDIST)}")


def quick_start_from_the_install(python: Path, scripts: Path, place: Path) -> None:
    sandbox = scripts / "cadenya-sandbox"
    db = place / "sandbox.db"
    account = json.loads(run(sandbox, "create-account", "--db", db, "--name", "Release check", cwd=place))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sandbox, "serve", "--db", db, "--port", str(port)],
        cwd=place,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_listening(port, server)
        env = {**os.environ, "CADENYA_BASE_URL": base_url, "CADENYA_API_KEY": account["apiKey"]}
        env.pop("PYTHONPATH", None)
        (place / "quickstart.py").write_text((ROOT / "examples" / "quickstart.py").read_text())
        output = run(python, "quickstart.py", cwd=place, env=env)
        print("quick start, from the installed wheel, against the installed cadenya-sandbox:")
        print("".join(f"  | {line}\n" for line in output.splitlines()), end="")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cadenya-release-") as temporary:
        place = Path(temporary)
        dist = place / "dist"
        run(BIN / "python", "-m", "build", "--sdist", "--wheel", "--outdir", dist)
        wheel, sdist = next(dist.glob("*.whl")), next(dist.glob("*.tar.gz"))
        print(run(BIN / "twine", "check", "--strict", wheel, sdist).strip())
        check_contents(wheel, sdist)

        venv = place / "venv"
        run(sys.executable, "-m", "venv", venv)
        python, scripts = venv / "bin" / "python", venv / "bin"
        run(python, "-m", "pip", "install", "--quiet", wheel, cwd=place)
        print(run(python, "-c", IMPORT_EVERYTHING, cwd=place).strip())
        run(python, "-m", "pip", "install", "--quiet", f"{wheel}[sandbox]", cwd=place)
        quick_start_from_the_install(python, scripts, place)
    print(f"release check passed in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

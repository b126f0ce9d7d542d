"""`make example-tests`: the example application's own test suite, as a user runs it, against the built wheel.

1. Build the wheel.
2. A fresh venv with the wheel alone (no extra) and pytest: the plugin leaves pytest as it was; a plain test
   passes with warnings as errors, and no `cadenya_` fixture or option exists.
3. A fresh venv with `cadenya[sandbox]` from the wheel and pytest: examples/testing, copied away from this
   checkout, passes with the plugin's fixtures alone, over 127.0.0.1 and then in process.

Each pytest run's output is printed; with `--junit-dir DIR` each also writes its JUnit XML report there, which
`make test` counts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYTEST = "pytest==9.2.0"
PLAIN_TEST = "def test_plain():\n    assert True\n"
JUNIT_DIR: Path | None = None


def junit(name: str) -> list[str]:
    """pytest's option writing its JUnit report as `name`.xml in --junit-dir, if one was given."""
    return [f"--junitxml={JUNIT_DIR / name}.xml"] if JUNIT_DIR else []


def run(*command: str | Path, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                            check=False, timeout=900)  # fmt: skip
    if check and result.returncode != 0:
        raise SystemExit(f"example tests failed: {' '.join(map(str, command))}\n{result.stdout}{result.stderr}")
    return result


def venv(place: Path, *requirements: str | Path) -> Path:
    run(sys.executable, "-m", "venv", place, cwd=place.parent)
    python = place / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", *requirements, cwd=place.parent)
    return python


def without_the_extra(python: Path, work: Path) -> None:
    (work / "test_plain.py").write_text(PLAIN_TEST, encoding="utf-8")
    plain = run(python, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", "test_plain.py", *junit("plain"),
                cwd=work, check=False)  # fmt: skip
    print(plain.stdout, end="")
    fixtures = run(python, "-m", "pytest", "-p", "no:cacheprovider", "--fixtures", "test_plain.py", cwd=work).stdout
    helped = run(python, "-m", "pytest", "--help", cwd=work).stdout
    if plain.returncode != 0 or "warning" in plain.stdout.lower() or "cadenya_" in fixtures or "--cadenya" in helped:
        raise SystemExit(f"example tests failed: cadenya without the sandbox extra changed pytest\n{plain.stdout}")
    print("cadenya without the sandbox extra: pytest runs as before, no cadenya fixture, no option")


def main() -> int:
    global JUNIT_DIR
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--junit-dir", type=Path, help="write each pytest run's JUnit XML report here")
    JUNIT_DIR = parser.parse_args().junit_dir
    if JUNIT_DIR:
        JUNIT_DIR = JUNIT_DIR.resolve()
    with tempfile.TemporaryDirectory(prefix="cadenya-example-tests-") as temporary:
        place = Path(temporary)
        run(BIN / "python", "-m", "build", "--wheel", "--outdir", place / "dist", cwd=ROOT)
        wheel = next((place / "dist").glob("*.whl"))

        core = place / "core"
        core.mkdir()
        without_the_extra(venv(place / "venv-core", wheel, PYTEST), core)

        python = venv(place / "venv-sandbox", f"{wheel}[sandbox]", PYTEST)
        application = place / "application"
        shutil.copytree(ROOT / "examples" / "testing", application, ignore=shutil.ignore_patterns("__pycache__"))
        failed = False
        for mode in ("http", "in-process"):
            print(f"examples/testing, --cadenya-sandbox={mode}, from the installed wheel:")
            result = run(python, "-m", "pytest", "-p", "no:cacheprovider", f"--cadenya-sandbox={mode}",
                         *junit(f"application-{mode}"), cwd=application,
                         check=False)  # fmt: skip
            print(result.stdout, end="")
            failed = failed or result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m scripts.breaking [--base REF]`: report every change since REF and fail on a breaking one.

Exit status: 0 when the gate passes, 1 when a breaking change is neither versioned nor allowed, 2 when the
comparison cannot be made (an unknown ref, a spec that is not YAML, an invalid allow file, mypy failing to run).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

from scripts.breaking import RULES, gate, git, python_surface, typecheck, wire
from scripts.breaking.model import Change

ROOT = Path(__file__).resolve().parent.parent.parent


def _spec(path: Path, where: str) -> dict[str, object]:
    """The spec at `path` (`where` names it in errors), or an empty one when there is none; a ValueError with
    one line when there is a file that is not a YAML mapping."""
    if not path.is_file():
        return {}
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"the openapi.yaml of {where} is not UTF-8 text") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ValueError(f"the openapi.yaml of {where} is not valid YAML{at}") from None
    if not isinstance(document, dict):
        raise ValueError(f"the openapi.yaml of {where} is not a mapping of OpenAPI fields")
    return document


def _allow_entries(path: Path) -> list[gate.AllowEntry]:
    return gate.parse_allow(path.read_text(encoding="utf-8"), RULES) if path.is_file() else []


def run(root: Path, base_ref: str | None) -> tuple[str, int]:
    """The report of the working tree under `root` against `base_ref` (or the default base), and the exit status."""
    ref = base_ref or git.default_base(root)
    commit = git.resolve(root, ref)
    timings: list[str] = []
    changes: list[Change] = []
    with tempfile.TemporaryDirectory(prefix="breaking-") as scratch:
        base, users = Path(scratch) / "base", Path(scratch) / "users"
        base.mkdir()
        users.mkdir()
        git.extract(root, commit, base)

        started = time.perf_counter()
        changes += wire.compare(_spec(base / "openapi.yaml", ref), _spec(root / "openapi.yaml", "the working tree"))
        timings.append(f"wire {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        if (base / "client" / "cadenya").is_dir() and (root / "client" / "cadenya").is_dir():
            changes += python_surface.compare(base / "client", root / "client")
            timings.append(f"python {time.perf_counter() - started:.1f} s")
        else:
            timings.append("python skipped (the base has no client/cadenya)")

        started = time.perf_counter()
        if typecheck.users(base):
            cache = root / ".mypy_cache" / "breaking"
            changes += typecheck.check(base, root / "client", root / "pyproject.toml", cache, users)
            timings.append(f"typecheck {time.perf_counter() - started:.1f} s")
        else:
            timings.append("typecheck skipped (the base has no examples/ or tests/test_e2e_*.py)")

        allow = gate.new_entries(_allow_entries(base / gate.ALLOW_FILE), _allow_entries(root / gate.ALLOW_FILE))
        verdict = gate.decide(changes, gate.project_version(base), gate.project_version(root), allow)
    label = ref if ref == commit[:12] else f"{ref} ({commit[:12]})"
    text = gate.report(changes, verdict, label) + f"checked in {', '.join(timings)}\n"
    return text, 0 if verdict.passed else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.breaking", description=__doc__)
    parser.add_argument("--base", help="the commit, branch or tag to compare with (default: latest v* tag, else HEAD)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository whose working tree is checked")
    args = parser.parse_args(argv)
    try:
        text, status = run(args.root.resolve(), args.base)
    except (ValueError, RuntimeError) as error:
        print(f"breaking: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return status


if __name__ == "__main__":
    sys.exit(main())

"""The base the working tree is compared with, and its files."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from packaging.version import InvalidVersion, Version

BASE_PATHS = ("openapi.yaml", "pyproject.toml", ".breaking-allow", "client/cadenya", "examples", "tests")
"""What the gate reads of the base: the spec, the version, the allow list, the package and what uses it."""


def _git(root: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True).stdout


def default_base(root: Path) -> str:
    """The latest release tag (`v*`, by version order), or `HEAD` when there is none."""
    tags = _git(root, "tag", "--list", "v*").decode().split()
    versions: list[tuple[Version, str]] = []
    for tag in tags:
        try:
            versions.append((Version(tag[1:]), tag))
        except InvalidVersion:
            continue
    return max(versions)[1] if versions else "HEAD"


def resolve(root: Path, ref: str) -> str:
    """The commit `ref` names; a ValueError when it names none."""
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except subprocess.CalledProcessError:
        raise ValueError(f"{ref!r} is not a commit of this repository") from None


def extract(root: Path, commit: str, destination: Path) -> None:
    """The base's files the gate reads (those of `BASE_PATHS` it has), written under `destination`."""
    listed = _git(root, "ls-tree", "--name-only", commit, "--", *BASE_PATHS).decode().split("\n")
    present = [path for path in listed if path]
    if not present:
        return
    archive = _git(root, "archive", "--format=tar", commit, "--", *present)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")

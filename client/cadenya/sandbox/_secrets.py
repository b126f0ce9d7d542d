"""Identifiers, tokens and the secrets kept for them.

Tokens look like `cad_key_<30 random base62><6 base62 CRC32>`: a type prefix a secret scanner can match,
178 bits of entropy, and a checksum that rejects typos offline. Only their SHA-256 digests are stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import string
import time
import zlib
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
CROCKFORD32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NANOID_ALPHABET = string.ascii_letters + string.digits + "_-"

# Prefixes, not secrets (S105).
API_KEY_PREFIX = "cad_key_"
SESSION_PREFIX = "cad_sess_"
CLIENT_SECRET_PREFIX = "cad_cs_"  # noqa: S105
WEBHOOK_SECRET_PREFIX = "wh_"  # noqa: S105


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits))


def new_token(prefix: str) -> str:
    """A fresh token: prefix, 30 random base62 characters, 6-character CRC32 checksum."""
    body = "".join(secrets.choice(BASE62) for _ in range(30))
    return f"{prefix}{body}{_base62(zlib.crc32(body.encode()), 6)}"


def has_valid_checksum(token: str, prefix: str) -> bool:
    """Whether `token` is well formed for `prefix`; lets a typo or a foreign token fail without a lookup."""
    if not token.startswith(prefix) or len(token) != len(prefix) + 36:
        return False
    body, checksum = token[len(prefix) : -6], token[-6:]
    if any(character not in BASE62 for character in body):
        return False
    return hmac.compare_digest(checksum, _base62(zlib.crc32(body.encode()), 6))


def digest(token: str) -> bytes:
    """What is stored instead of a token."""
    return hashlib.sha256(token.encode()).digest()


def same_digest(stored: bytes, token: str) -> bool:
    """Constant-time comparison of a stored digest with a presented token."""
    return hmac.compare_digest(stored, digest(token))


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret in the account's `wh_` form: 32 random bytes, base64."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_ulid(prefix: str) -> str:
    """A prefixed ULID, e.g. `apikey_01JD…`: 48-bit millisecond time, 80 random bits, Crockford base32."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    encoded = "".join(CROCKFORD32[(value >> shift) & 31] for shift in range(125, -1, -5))
    return f"{prefix}_{encoded}"


def new_nanoid(size: int = 26) -> str:
    """A URL- and DNS-safe random id, as service accounts and credentials use."""
    return "".join(secrets.choice(NANOID_ALPHABET) for _ in range(size))


class Vault:
    """Encrypts what the sandbox must be able to read back (revealable tokens, webhook secrets, page tokens)
    with a key that lives in a file beside, not inside, the database.

    Revealable tokens and webhook secrets are sealed with the file's key itself; page tokens, which clients
    see, with a key derived from it for that one purpose, so a page token can never open anything else.
    """

    def __init__(self, key_file: Path) -> None:
        if not key_file.exists():
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(Fernet.generate_key())
        owner_only(key_file)
        key = key_file.read_bytes().strip()
        self._fernet = Fernet(key)
        self._page_tokens = Fernet(_derive(key, b"cadenya sandbox page tokens"))

    def seal(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def open(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode()
        except InvalidToken as error:
            raise RuntimeError("the sandbox key file does not match this database") from error

    def seal_page_token(self, position: dict[str, Any]) -> str:
        """An opaque, tamper-evident page token for `position` (encrypted and authenticated)."""
        return self._page_tokens.encrypt(json.dumps(position).encode()).decode().rstrip("=")

    def open_page_token(self, token: str) -> dict[str, Any] | None:
        """The position a page token of this sandbox holds, or None for anything else: forged, altered, foreign."""
        try:
            data = token.encode("ascii")
            opened = json.loads(self._page_tokens.decrypt(data + b"=" * (-len(data) % 4)))
        except (ValueError, InvalidToken):
            return None
        return opened if isinstance(opened, dict) else None


def _derive(key: bytes, purpose: bytes) -> bytes:
    """A Fernet key for one purpose, derived from the key file's key with HKDF-SHA256."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(base64.urlsafe_b64decode(key))
    return base64.urlsafe_b64encode(derived)


def owner_only(path: Path) -> None:
    """Make a file readable and writable by its owner only (0600), if it exists and is not already."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if stat.S_IMODE(mode) != 0o600:
        path.chmod(0o600)

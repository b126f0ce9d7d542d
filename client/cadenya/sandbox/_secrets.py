"""Identifiers, tokens and the secrets kept for them.

Tokens look like `cad_key_<30 random base62><6 base62 CRC32>`: a type prefix a secret scanner can match,
178 bits of entropy, and a checksum that rejects typos offline. Only their SHA-256 digests are stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import string
import time
import zlib
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

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
    """Encrypts revealable tokens with a key that lives in a file beside, not inside, the database."""

    def __init__(self, key_file: Path) -> None:
        if not key_file.exists():
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(Fernet.generate_key())
        self._fernet = Fernet(key_file.read_bytes().strip())

    def seal(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def open(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode()
        except InvalidToken as error:
            raise RuntimeError("the sandbox key file does not match this database") from error

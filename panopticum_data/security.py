"""Password hashing (bcrypt) and API tokens (random, stored as SHA-256). Nothing secret is stored plain.

bcrypt reads at most 72 bytes of a password; longer passwords are first reduced to the base64 of
their SHA-256 digest, so that every character counts and bcrypt never refuses the input.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import bcrypt

BCRYPT_ROUNDS = 12
"""The bcrypt work factor for new hashes (tests lower it to stay fast)."""

TOKEN_PREFIX = "pan_"
_BCRYPT_MAX = 72


def _secret_bytes(password: str) -> bytes:
    raw = password.encode("utf-8")
    if len(raw) <= _BCRYPT_MAX:
        return raw
    return base64.b64encode(hashlib.sha256(raw).digest())


def hash_password(password: str, *, rounds: int | None = None) -> str:
    """A salted bcrypt hash of ``password`` (``$2b$…``), to store in ``person.password_hash``."""
    if not isinstance(password, str) or not password:
        raise ValueError("a password must be a non-empty string")
    salt = bcrypt.gensalt(rounds or BCRYPT_ROUNDS)
    return bcrypt.hashpw(_secret_bytes(password), salt).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches the stored hash; False for no hash, a malformed hash or no match."""
    if not password_hash or not isinstance(password, str) or not password:
        return False
    try:
        return bcrypt.checkpw(_secret_bytes(password), password_hash.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False


def hash_token(plain: str) -> str:
    """The SHA-256 hex digest of an API token: what ``api_token.token_hash`` stores and is looked up by."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def new_api_token() -> tuple[str, str]:
    """A fresh API token: ``(plain, sha256_hash)``. Show ``plain`` once; store only the hash."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return plain, hash_token(plain)


def tokens_match(plain: str, token_hash: str) -> bool:
    """Constant-time comparison of a presented token with a stored hash."""
    return hmac.compare_digest(hash_token(plain), token_hash)

"""Services layer: salted scrypt password hashes, compared in constant time."""
from __future__ import annotations

import hashlib
import hmac
import secrets


def hash_password(password: str, n: int = 2**14) -> str:
    """Return 'scrypt$n$r$p$salt$hash' for password, with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, dklen=32)
    return f"scrypt${n}$8$1${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Tell whether password matches a hash made by hash_password."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                   dklen=len(digest) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


# Checked against when the username does not exist, so a wrong name costs the same time as a wrong password.
DUMMY_HASH = hash_password("no such user", n=2**10)

"""Signed alarm webhooks: HMAC-SHA256 over ``<timestamp>.<body>``, checked within a replay window.

The sender (an IoT or video platform) holds its channel's API key and signs each request::

    signing_key = sha256(api_key)                       # 32 bytes
    X-GC-Key-Id:    k1a2b3c4d                          # the key's public id
    X-GC-Timestamp: 1765000000                         # Unix seconds, UTC
    X-GC-Signature: sha256=hex(HMAC-SHA256(signing_key, b"1765000000." + body))

The key itself never crosses the wire, and the store holds only its SHA-256 (:mod:`api.keys`).
The trade-off: whoever reads ``api_keys.key_hash`` from the store could sign alarms of that channel
(but not use the key elsewhere); revoke and re-issue the key if the store leaks. A timestamp more
than the window away from the server clock is refused, and a signature already seen within the
window is a replay (:class:`store.models.ApiNonce`).
"""

from __future__ import annotations

import hashlib
import hmac

from api.errors import ApiError
from api.keys import key_hash

HEADER_KEY_ID = "X-GC-Key-Id"
HEADER_TIMESTAMP = "X-GC-Timestamp"
HEADER_SIGNATURE = "X-GC-Signature"


def signature_for_hash(hash_hex: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of ``timestamp.body`` under the signing key of a stored key hash."""
    mac = hmac.new(bytes.fromhex(hash_hex), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def sign(api_key: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-GC-Signature`` a sender holding ``api_key`` puts on ``body`` (for clients and tests)."""
    return signature_for_hash(key_hash(api_key), str(timestamp), body)


def check(hash_hex: str, timestamp: str, signature: str, body: bytes, *, now: float, window_s: int) -> None:
    """Refuse a request whose timestamp is outside the window or whose signature does not match.

    Parameters
    ----------
    hash_hex : str
        The key's stored SHA-256 (hex).
    timestamp, signature : str
        The ``X-GC-Timestamp`` (Unix seconds) and ``X-GC-Signature`` headers.
    body : bytes
        The raw request body.
    now : float
        Server time, Unix seconds.
    window_s : int
        Largest allowed difference between ``timestamp`` and ``now``, seconds.

    Raises
    ------
    ApiError
        401 naming the header at fault and the fix.
    """
    if not timestamp.strip().isdigit():
        raise ApiError(401, HEADER_TIMESTAMP, "missing or not Unix seconds", "send the current time as Unix "
                       "seconds (UTC) and sign it with the body", reason="bad_signature")
    if abs(now - int(timestamp)) > window_s:
        raise ApiError(401, HEADER_TIMESTAMP, f"more than {window_s} s away from the server clock",
                       "sign each request when it is sent, and keep the sender's clock right (NTP)",
                       reason="stale_timestamp")
    expected = signature_for_hash(hash_hex, timestamp.strip(), body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("ascii", "replace")):
        raise ApiError(401, HEADER_SIGNATURE, "the signature does not match the body",
                       "send sha256=hex(HMAC-SHA256(sha256(api_key), timestamp + '.' + body)) over the exact "
                       "bytes sent", reason="bad_signature")

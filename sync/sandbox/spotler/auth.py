"""OAuth 1.0a one-legged (consumer key and secret, no token, HMAC-SHA1), verified with oauthlib.

Parameters may come in the ``Authorization: OAuth ...`` header or the query string. The signed URL includes the
query; only a form-encoded body is signed (a JSON body is not). Timestamps must be within 10 minutes of now and a
nonce is accepted once per key and timestamp.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint
from oauthlib.oauth1.rfc5849 import SIGNATURE_HMAC_SHA1

TIMESTAMP_LIFETIME = 600
_FORM = "application/x-www-form-urlencoded"


class Headers(Protocol):
    """What ``verify`` reads of request headers: ``http.server``'s (case-insensitive) ``Message`` or a mapping."""

    def keys(self) -> Iterable[str]: ...

    def __getitem__(self, name: str, /) -> str: ...

    def get(self, name: str, default: str, /) -> str: ...


class _Validator(RequestValidator):
    """Knows the one consumer; accepts any key or nonce format; remembers nothing itself (see ``seen``)."""

    enforce_ssl = False
    allowed_signature_methods = (SIGNATURE_HMAC_SHA1,)
    timestamp_lifetime = TIMESTAMP_LIFETIME
    dummy_client = "dummy-consumer"

    def __init__(self, key: str, secret: str, seen: Mapping[tuple[str, str, str], float]):
        super().__init__()
        self.key, self.secret, self.seen = key, secret, seen

    def check_client_key(self, client_key: str) -> bool:
        return bool(client_key)

    def check_nonce(self, nonce: str) -> bool:
        return bool(nonce)

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return hmac.compare_digest(client_key.encode(), self.key.encode())

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self.secret if client_key == self.key else "dummy-secret"

    def validate_timestamp_and_nonce(self, client_key: str, timestamp: str, nonce: str, request: Any,
                                     request_token: str | None = None, access_token: str | None = None) -> bool:
        return (client_key, timestamp, nonce) not in self.seen


class OAuthVerifier:
    """Checks one request's signature against any of the URLs the client may have signed."""

    def __init__(self, key: str, secret: str):
        self._seen: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()
        self._endpoint = SignatureOnlyEndpoint(_Validator(key, secret, self._seen))

    def verify(self, uris: Iterable[str], method: str, body: bytes, headers: Headers) -> str | None:
        """None when the request is signed right, else why not."""
        form = _FORM in headers.get("Content-Type", "")
        text = body.decode("utf-8", "replace") if form else None
        reason = "missing or invalid OAuth parameters (consumer key, signature method, timestamp, nonce)"
        with self._lock:
            for uri in uris:
                try:
                    valid, request = self._endpoint.validate_request(uri, method, text, dict(headers))
                except ValueError as error:  # a malformed Authorization header or URL
                    return f"malformed OAuth request: {error}"
                if valid:
                    self._remember((request.client_key, request.timestamp, request.nonce))
                    return None
                if request is not None and request.validator_log:
                    log = request.validator_log
                    reason = "unknown consumer key" if not log.get("client") else "invalid signature"
                elif request is not None and request.nonce and request.timestamp and self._used(request):
                    reason = "nonce already used"
        return reason

    def _used(self, request: Any) -> bool:
        return (request.client_key, request.timestamp, request.nonce) in self._seen

    def _remember(self, nonce: tuple[str, str, str]) -> None:
        now = time.time()
        if len(self._seen) > 10_000:  # forget nonces whose timestamps are out of the window anyway
            for old in [n for n, seen_at in self._seen.items() if seen_at < now - 2 * TIMESTAMP_LIFETIME]:
                del self._seen[old]
        self._seen[nonce] = now

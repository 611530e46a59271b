"""Cross-site request forgery tokens for the pages' forms.

A signed-in person's token is an HMAC of their session cookie under a server key, so it
needs no storage, changes with every sign-in and dies with the session. Every form carries
it as the hidden field ``csrf_token``; htmx sends it as the ``X-CSRF-Token`` header (set
with ``hx-headers`` on ``<body>``). Every state-changing page route checks it, on top of the
``Sec-Fetch-Site``/``Origin`` check and the SameSite=Strict cookie.

The key is derived from the deployment's data keys (``CHAINFIN_DATA_KEYS``, refused when
missing in production, see config.py) with a label of its own, so no new secret is needed
and no other use of those keys can produce a valid token:

>>> key = derive_key("k1:c2VjcmV0")
>>> token = token_for(key, "session-cookie")
>>> matches(key, "session-cookie", token), matches(key, "other-cookie", token)
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
_LABEL = b"chainfin pages csrf v1"


def derive_key(data_key_spec: str) -> bytes:
    return hmac.new(data_key_spec.encode(), _LABEL, hashlib.sha256).digest()


def token_for(key: bytes, session_cookie: str) -> str:
    return hmac.new(key, session_cookie.encode(), hashlib.sha256).hexdigest()


def matches(key: bytes, session_cookie: str | None, presented: str | None) -> bool:
    if not session_cookie or not presented:
        return False
    return hmac.compare_digest(token_for(key, session_cookie), presented)

"""Merchant API keys: issued once, stored as a salted hash, checked in constant time.

A key reads ``pk_<key_id>_<secret>``: ``key_id`` is 12 hex digits (the record's id, safe to
show and log), ``secret`` 64 hex digits (256 random bits, shown once at creation and never
stored). A record in the keys index (``ApiSettings.merchant.keys_index``) holds::

    {key_id, shop_id, salt, hash, iterations, created_at, last_used_at, revoked, revoked_at}

``hash`` is PBKDF2-HMAC-SHA256 of the secret with the record's own salt. The secret has
256 bits of entropy, so the rounds are not what protects it; they only make a stolen
index useless for offline guessing of anything weaker a future format might allow.

Failed attempts are counted per key id and per client address (:class:`FailureLimiter`);
past the limit every attempt, a correct one included, gets 429 until the window passes,
so a lockout cannot be used to confirm a guess. The limiter is in process memory: with
several API processes each counts its own (a shared store is the next step; documented).

Nothing here logs a key or a secret; only key ids appear in errors.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import AsyncElasticsearch

from schemas.errors import RateLimited, Unauthorized

KEY_PATTERN = re.compile(r"^pk_([0-9a-f]{12})_([0-9a-f]{64})$")
_UNAUTHORIZED = "missing, malformed, unknown or revoked API key"

KEYS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "key_id": {"type": "keyword"},
        "shop_id": {"type": "keyword"},
        "salt": {"type": "keyword", "index": False, "doc_values": False},
        "hash": {"type": "keyword", "index": False, "doc_values": False},
        "iterations": {"type": "integer", "index": False},
        "created_at": {"type": "date"},
        "last_used_at": {"type": "date"},
        "revoked": {"type": "boolean"},
        "revoked_at": {"type": "date"},
    },
}


@dataclass(frozen=True)
class Merchant:
    """Who a valid key belongs to: the only identity the merchant endpoints trust."""

    key_id: str
    shop_id: str


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    shop_id: str
    key: str  # the full key: shown once, never stored


def parse_key(raw: str | None) -> tuple[str, str] | None:
    """``pk_<key_id>_<secret>`` -> ``(key_id, secret)``; None if it is not in that form."""
    if not raw or len(raw) > 100:
        return None
    m = KEY_PATTERN.match(raw.strip())
    return (m.group(1), m.group(2)) if m else None


def hash_secret(secret: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class FailureLimiter:
    """Failed attempts per key id and per client address in a sliding window.

    ``check`` raises :class:`RateLimited` when either is at its limit; ``record`` counts one
    failure. ``clock`` is injectable for tests.
    """

    #: Names (addresses, key ids) with failures in the window that one process remembers. A
    #: caller that rotates addresses or made-up key ids leaves names behind that are never
    #: checked again; past this many, expired names are swept, then the oldest dropped.
    MAX_NAMES = 100_000

    def __init__(self, *, per_key: int, per_address: int, window_s: float,
                 clock: Callable[[], float] = time.monotonic, max_names: int = MAX_NAMES) -> None:
        self.per_key = per_key
        self.per_address = per_address
        self.window_s = window_s
        self.max_names = max_names
        self._clock = clock
        self._fails: dict[str, deque[float]] = {}

    def _count(self, name: str) -> int:
        q = self._fails.get(name)
        if q is None:
            return 0
        horizon = self._clock() - self.window_s
        while q and q[0] <= horizon:
            q.popleft()
        if not q:
            del self._fails[name]
            return 0
        return len(q)

    def check(self, *, key_id: str | None, address: str | None) -> None:
        if address is not None and self._count(f"addr:{address}") >= self.per_address:
            raise RateLimited("too many failed attempts from this address; retry later",
                              retry_after=max(1, int(self.window_s)))
        if key_id is not None and self._count(f"key:{key_id}") >= self.per_key:
            raise RateLimited("too many failed attempts for this key id; retry later",
                              retry_after=max(1, int(self.window_s)))

    def record(self, *, key_id: str | None, address: str | None) -> None:
        t = self._clock()
        for name in ([f"addr:{address}"] if address is not None else []) + \
                    ([f"key:{key_id}"] if key_id is not None else []):
            q = self._fails.pop(name, None) or deque()
            self._fails[name] = q  # re-inserted: the dict stays ordered by last failure
            q.append(t)
            while len(q) > max(self.per_key, self.per_address):  # bounded memory per name
                q.popleft()
        if len(self._fails) > self.max_names:
            self._shrink()

    def _shrink(self) -> None:
        """Forget names whose failures all left the window, then, down to 90% of the bound, the
        least recently failed (a name forgotten early can be limited again, never get in
        unchecked). The 10% headroom makes the sweep's cost a few steps per failure, amortised."""
        horizon = self._clock() - self.window_s
        for name in [n for n, q in self._fails.items() if not q or q[-1] <= horizon]:
            del self._fails[name]
        while len(self._fails) > self.max_names * 0.9:
            del self._fails[next(iter(self._fails))]


class KeyStore:
    """API key records in one ES index. Creation, listing and revocation are for the CLI;
    :meth:`authenticate` is for the API."""

    def __init__(self, es: AsyncElasticsearch, *, index: str, iterations: int = 20_000,
                 touch_interval_s: float = 60.0) -> None:
        self.es = es
        self.index = index
        self.iterations = iterations
        self.touch_interval_s = touch_interval_s
        # A hash to compare against when the key id is unknown, so that an unknown id
        # costs the same time as a wrong secret (no key-id enumeration by timing).
        self._decoy_salt = secrets.token_bytes(16)
        self._decoy_hash = hash_secret(secrets.token_hex(32), self._decoy_salt, iterations)

    async def ensure_index(self) -> None:
        if not await self.es.indices.exists(index=self.index):
            await self.es.options(ignore_status=400).indices.create(
                index=self.index, mappings=KEYS_MAPPING,
                settings={"number_of_shards": 1, "number_of_replicas": 0})

    async def create(self, shop_id: str) -> IssuedKey:
        """Issue a key for ``shop_id``; the returned ``key`` is the only copy of the secret."""
        await self.ensure_index()
        key_id, secret, salt = secrets.token_hex(6), secrets.token_hex(32), secrets.token_bytes(16)
        doc = {"key_id": key_id, "shop_id": shop_id, "salt": salt.hex(),
               "hash": hash_secret(secret, salt, self.iterations).hex(), "iterations": self.iterations,
               "created_at": _now(), "last_used_at": None, "revoked": False, "revoked_at": None}
        await self.es.create(index=self.index, id=key_id, document=doc, refresh="wait_for")
        return IssuedKey(key_id=key_id, shop_id=shop_id, key=f"pk_{key_id}_{secret}")

    async def list_keys(self, shop_id: str | None = None) -> list[dict[str, Any]]:
        """Key records without salt and hash, newest first."""
        if not await self.es.indices.exists(index=self.index):
            return []
        query = {"term": {"shop_id": shop_id}} if shop_id else {"match_all": {}}
        resp = await self.es.search(index=self.index, query=query, size=1000,
                                    sort=[{"created_at": "desc"}, {"key_id": "asc"}],
                                    source_excludes=["salt", "hash", "iterations"])
        return [h["_source"] for h in resp["hits"]["hits"]]

    async def revoke(self, key_id: str) -> bool:
        """Revoke a key at once (the next request with it gets 401). False if there is no such key."""
        resp = await self.es.options(ignore_status=404).update(
            index=self.index, id=key_id, doc={"revoked": True, "revoked_at": _now()}, refresh="wait_for")
        return resp.meta.status != 404

    async def authenticate(self, raw: str | None) -> Merchant:
        """The merchant a raw key belongs to. Raises :class:`Unauthorized` for any bad key,
        with the same message whatever was wrong (one ES ``get``; a throttled write on success)."""
        parsed = parse_key(raw)
        if parsed is None:
            raise Unauthorized(_UNAUTHORIZED)
        key_id, secret = parsed
        resp = await self.es.options(ignore_status=404).get(index=self.index, id=key_id)
        rec = resp.get("_source") if resp.get("found") else None
        if rec is None:
            hmac.compare_digest(hash_secret(secret, self._decoy_salt, self.iterations), self._decoy_hash)
            raise Unauthorized(_UNAUTHORIZED)
        actual = hash_secret(secret, bytes.fromhex(rec["salt"]), int(rec["iterations"]))
        if not hmac.compare_digest(actual, bytes.fromhex(rec["hash"])) or rec.get("revoked"):
            raise Unauthorized(_UNAUTHORIZED)
        await self._touch(key_id, rec.get("last_used_at"))
        return Merchant(key_id=key_id, shop_id=rec["shop_id"])

    async def _touch(self, key_id: str, last_used_at: str | None) -> None:
        if last_used_at:
            age = (datetime.now(UTC) - datetime.fromisoformat(last_used_at)).total_seconds()
            if age < self.touch_interval_s:
                return
        # Best effort: a lost last_used_at write must not fail the merchant's request.
        await self.es.options(ignore_status=(404, 409)).update(index=self.index, id=key_id,
                                                                doc={"last_used_at": _now()})


class Authenticator:
    """The API's gate: the failure limiter in front of the key store."""

    def __init__(self, store: KeyStore, limiter: FailureLimiter) -> None:
        self.store = store
        self.limiter = limiter

    async def __call__(self, raw: str | None, *, address: str | None) -> Merchant:
        parsed = parse_key(raw)
        key_id = parsed[0] if parsed else None
        self.limiter.check(key_id=key_id, address=address)
        try:
            return await self.store.authenticate(raw)
        except Unauthorized:
            self.limiter.record(key_id=key_id, address=address)
            raise

"""Key format, hashing and the failed-attempt limiter (no services)."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

import pytest

from schemas.errors import RateLimited, Unauthorized
from search_api.keys import Authenticator, FailureLimiter, KeyStore, hash_secret, parse_key

GOOD = "pk_0123456789ab_" + "f" * 64


@pytest.mark.parametrize("raw", [None, "", "pk_", "pk_0123456789ab", "pk_0123456789AB_" + "f" * 64,
                                 "pk_0123456789ab_" + "f" * 63, "pk_0123456789ab_" + "g" * 64,
                                 "sk_0123456789ab_" + "f" * 64, GOOD + "x", "x" * 1000])
def test_malformed_keys_do_not_parse(raw: str | None) -> None:
    assert parse_key(raw) is None


def test_a_well_formed_key_parses_into_id_and_secret() -> None:
    assert parse_key(GOOD) == ("0123456789ab", "f" * 64)


def test_the_hash_depends_on_the_salt() -> None:
    a = hash_secret("s" * 64, b"salt-1", 1000)
    assert hmac.compare_digest(a, hash_secret("s" * 64, b"salt-1", 1000))
    assert a != hash_secret("s" * 64, b"salt-2", 1000)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_limiter_blocks_a_key_id_after_its_failures_until_the_window_passes() -> None:
    clock = Clock()
    lim = FailureLimiter(per_key=2, per_address=10, window_s=60, clock=clock)
    for _ in range(2):
        lim.check(key_id="k1", address="1.2.3.4")
        lim.record(key_id="k1", address="1.2.3.4")
    with pytest.raises(RateLimited):
        lim.check(key_id="k1", address="5.6.7.8")
    lim.check(key_id="k2", address="1.2.3.4")  # other key ids are not blocked
    clock.t += 61
    lim.check(key_id="k1", address="1.2.3.4")


def test_limiter_blocks_an_address_whatever_the_key() -> None:
    lim = FailureLimiter(per_key=100, per_address=3, window_s=60, clock=Clock())
    for i in range(3):
        lim.record(key_id=f"k{i}", address="1.2.3.4")
    with pytest.raises(RateLimited):
        lim.check(key_id=None, address="1.2.3.4")
    lim.check(key_id=None, address="9.9.9.9")


def test_limiter_memory_is_bounded_when_names_rotate() -> None:
    """Made-up key ids and rotating addresses must not grow the table without end."""
    clock = Clock()
    lim = FailureLimiter(per_key=2, per_address=3, window_s=60, clock=clock, max_names=50)
    for i in range(200):
        lim.record(key_id=f"k{i}", address=None)
    assert len(lim._fails) <= 50
    lim.record(key_id="k199", address=None)  # the most recent names are the ones kept
    with pytest.raises(RateLimited):
        lim.check(key_id="k199", address=None)
    clock.t += 61  # expired names go first when the table is full again
    lim.record(key_id="fresh", address="1.2.3.4")
    for i in range(60):
        lim.record(key_id=f"n{i}", address=None)
    assert len(lim._fails) <= 50 and "key:k199" not in lim._fails


class FakeEs:
    """Just enough of AsyncElasticsearch for KeyStore.authenticate."""

    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self.docs = docs
        self.updates: list[str] = []

    def options(self, **_: Any) -> FakeEs:
        return self

    async def get(self, *, index: str, id: str) -> dict[str, Any]:
        return {"found": True, "_source": self.docs[id]} if id in self.docs else {"found": False}

    async def update(self, *, index: str, id: str, doc: dict[str, Any]) -> dict[str, Any]:
        self.updates.append(id)
        self.docs[id].update(doc)
        return {}


def _record(secret: str, *, revoked: bool = False) -> dict[str, Any]:
    salt = b"0123456789abcdef"
    return {"key_id": "0123456789ab", "shop_id": "s1", "salt": salt.hex(),
            "hash": hash_secret(secret, salt, 1000).hex(), "iterations": 1000, "revoked": revoked,
            "last_used_at": None}


def test_authenticate_accepts_the_right_secret_and_records_use() -> None:
    es = FakeEs({"0123456789ab": _record("f" * 64)})
    store = KeyStore(es, index="keys", iterations=1000)  # type: ignore[arg-type]
    merchant = asyncio.run(store.authenticate(GOOD))
    assert (merchant.key_id, merchant.shop_id) == ("0123456789ab", "s1")
    assert es.updates == ["0123456789ab"]
    asyncio.run(store.authenticate(GOOD))
    assert es.updates == ["0123456789ab"]  # throttled: not a write per request


@pytest.mark.parametrize(("docs", "raw"), [
    ({"0123456789ab": _record("e" * 64)}, GOOD),  # wrong secret
    ({"0123456789ab": _record("f" * 64, revoked=True)}, GOOD),  # revoked
    ({}, GOOD),  # unknown key id
    ({"0123456789ab": _record("f" * 64)}, "pk_nope"),  # malformed
])
def test_every_bad_key_is_the_same_401(docs: dict[str, Any], raw: str) -> None:
    store = KeyStore(FakeEs(docs), index="keys", iterations=1000)  # type: ignore[arg-type]
    with pytest.raises(Unauthorized) as err:
        asyncio.run(store.authenticate(raw))
    assert err.value.detail == "missing, malformed, unknown or revoked API key"
    assert "f" * 16 not in str(err.value)


def test_the_authenticator_counts_failures_and_then_refuses_even_the_right_key() -> None:
    store = KeyStore(FakeEs({"0123456789ab": _record("f" * 64)}), index="keys",  # type: ignore[arg-type]
                     iterations=1000)
    auth = Authenticator(store, FailureLimiter(per_key=2, per_address=100, window_s=60, clock=Clock()))
    bad = "pk_0123456789ab_" + "0" * 64
    for _ in range(2):
        with pytest.raises(Unauthorized):
            asyncio.run(auth(bad, address="a"))
    with pytest.raises(RateLimited):
        asyncio.run(auth(GOOD, address="b"))

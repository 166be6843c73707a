"""The CLI twin: ``catalog visibility`` answers as the endpoint does; ``catalog keys`` issues,
lists and revokes the keys the endpoint accepts."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from merchant_world import A, bearer
from typer.testing import CliRunner

from indexer.cli import app


def env(world: Any) -> dict[str, str]:
    s = world.settings
    return {"POCKET_ES_URL": s.es_url, "POCKET_INDEX": s.index, "POCKET_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
            "POCKET_TOPIC": s.topic, "POCKET_DLQ_TOPIC": s.dlq_topic, "POCKET_GROUP_ID": s.group_id,
            "POCKET_MERCHANT__KEYS_INDEX": s.merchant.keys_index, "POCKET_MERCHANT__KEY_ITERATIONS": "1000"}


def cli(world: Any, *args: str) -> Any:
    result = CliRunner().invoke(app, list(args), env=env(world))
    return result


@pytest.mark.parametrize(("pid", "q"), [("a-live", "羽绒服"), ("a-dlq", ""), ("a-pending", "短款"),
                                        ("b-off", "羽绒服"), ("a-new-dlq", "")])
def test_cli_visibility_gives_the_endpoints_answer(client: TestClient, merchant_world: Any, pid: str,
                                                   q: str) -> None:
    key = merchant_world.keys.a if pid.startswith("a-") else merchant_world.keys.b
    api = client.get(f"/merchant/listings/{pid}/visibility", params={"q": q}, headers=bearer(key)).json()
    result = cli(merchant_world, "visibility", pid, "--query", q, "--json")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout) == api


def test_cli_visibility_human_output_and_missing_id(merchant_world: Any) -> None:
    result = cli(merchant_world, "visibility", "a-off")
    assert result.exit_code == 0 and "商品不可见" in result.stdout and "off_shelf" in result.stdout
    missing = cli(merchant_world, "visibility", "nope-404")
    assert missing.exit_code == 1 and "no listing" in missing.output


def test_cli_keys_create_list_revoke_round_trip(client: TestClient, merchant_world: Any) -> None:
    created = cli(merchant_world, "keys", "create", "--shop", A, "--json")
    assert created.exit_code == 0, created.output
    issued = orjson.loads(created.stdout)
    assert issued["key"].startswith(f"pk_{issued['key_id']}_")
    r = client.get("/merchant/listings/a-live/visibility", headers=bearer(issued["key"]))
    assert r.status_code == 200

    listed = cli(merchant_world, "keys", "list", "--shop", A, "--json")
    rows = {r["key_id"]: r for r in orjson.loads(listed.stdout)}
    assert rows[issued["key_id"]]["shop_id"] == A and rows[issued["key_id"]]["revoked"] is False
    assert issued["key"] not in listed.stdout and "hash" not in rows[issued["key_id"]]

    revoked = cli(merchant_world, "keys", "revoke", issued["key_id"])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/merchant/listings/a-live/visibility", headers=bearer(issued["key"])).status_code == 401
    assert cli(merchant_world, "keys", "revoke", "000000000000").exit_code == 1
    assert cli(merchant_world, "keys", "create", "--shop", "bad shop!").exit_code == 1

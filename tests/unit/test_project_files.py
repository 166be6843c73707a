"""The files users and producers rely on stay true: docker-compose, exported JSON Schemas."""

from __future__ import annotations

from pathlib import Path

import yaml

from schemas import export

ROOT = Path(__file__).resolve().parents[2]


def test_docker_compose_parses_and_names_the_four_services() -> None:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = doc["services"]
    assert {"elasticsearch", "kafka", "indexer", "api"} <= set(services)
    assert services["elasticsearch"]["image"].split(":")[-1].startswith("9.")
    assert services["kafka"]["image"].startswith("apache/kafka:4.")
    for name, svc in services.items():
        assert "healthcheck" in svc, f"{name} has no healthcheck"
        for port in svc.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"
    assert services["api"]["environment"]["POCKET_ES_URL"] == "http://elasticsearch:9200"


def test_exported_json_schemas_are_up_to_date() -> None:
    for name, doc in export.documents().items():
        assert (ROOT / "schemas" / name).read_text(encoding="utf-8") == export.render(doc), (
            f"schemas/{name} is stale: run `python -m schemas.export`")

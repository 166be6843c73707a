"""Write the JSON Schemas producers validate against, and the index mapping, next to the models.

    python -m schemas.export          # rewrite schemas/*.json
    python -m schemas.export --check  # exit 1 if a file is out of date (CI)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from schemas.events import EVENT_ADAPTER, Product, ProductPatch

HERE = Path(__file__).resolve().parent


def documents() -> dict[str, Any]:
    from analyzers import get_analyzer
    from schemas.mapping import index_body

    event = EVENT_ADAPTER.json_schema(mode="validation")
    event["title"] = "ProductEvent"
    event["description"] = ("A product change on the products.changes topic, keyed by product_id. "
                            "Ordering is by version (monotonic per product), never by Kafka offset.")
    return {
        "product_event.schema.json": event,
        "product.schema.json": Product.model_json_schema(),
        "product_patch.schema.json": ProductPatch.model_json_schema(),
        "index.json": index_body(analysis_version=get_analyzer().version),
    }


def render(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for name, doc in documents().items():
        path = HERE / name
        text = render(doc)
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date: {', '.join(stale)}; run: python -m schemas.export", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

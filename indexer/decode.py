"""Bytes from Kafka to a validated event, or an :class:`InvalidEvent` with a reason code."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from indexer.merge import Event
from schemas.errors import InvalidEvent
from schemas.events import EVENT_ADAPTER, MAX_EVENT_BYTES

#: Dead-letter reason codes (the ``reason`` header of a dead letter).
REASONS = ("oversized", "invalid_json", "unknown_type", "schema_violation", "es_rejected", "unindexable")


def decode_event(value: bytes | None, *, max_bytes: int = MAX_EVENT_BYTES) -> Event:
    """Parse and validate one message value.

    Raises :class:`InvalidEvent` with ``reason`` one of ``oversized``, ``invalid_json``,
    ``unknown_type`` or ``schema_violation``; never anything else.
    """
    return validate_event(parse_json(value, max_bytes=max_bytes))


def parse_json(value: bytes | None, *, max_bytes: int = MAX_EVENT_BYTES) -> dict[str, Any]:
    """The first half of :func:`decode_event`: size check and JSON parse (``oversized``, ``invalid_json``)."""
    if value is None:
        raise InvalidEvent("invalid_json", "empty message (null value)")
    if len(value) > max_bytes:
        raise InvalidEvent("oversized", f"{len(value)} bytes > limit {max_bytes}")
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError as err:
        raise InvalidEvent("invalid_json", str(err)) from err
    if not isinstance(obj, dict):
        raise InvalidEvent("invalid_json", f"expected a JSON object, got {type(obj).__name__}")
    return obj


def validate_event(obj: dict[str, Any]) -> Event:
    """The second half of :func:`decode_event`: the event schema (``unknown_type``, ``schema_violation``)."""
    if "type" in obj and obj["type"] not in ("upsert", "patch", "delete"):
        raise InvalidEvent("unknown_type", f"unknown event type {str(obj['type'])[:50]!r}")
    try:
        return EVENT_ADAPTER.validate_python(obj)
    except ValidationError as err:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(event)'}: {e['msg']}" for e in err.errors()[:5]
        )
        raise InvalidEvent("schema_violation", detail) from err

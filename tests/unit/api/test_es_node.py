"""The API's HTTP node to Elasticsearch (search_api/es_node.py) against small local HTTP
servers that misbehave on purpose: slow answers, closed connections, garbage, HEAD, and more
requests at once than connections. Its work against real ES is in
tests/integration/api/test_es_node_real.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from elastic_transport import AiohttpHttpNode, ConnectionError, ConnectionTimeout, HttpHeaders, NodeConfig

from search_api.es_node import LeanHttpNode, node_class

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _answer(body: bytes = b'{"ok":true}', *, extra: str = "") -> bytes:
    return (f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
            ).encode() + body


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in head[1:] if h)}
    body = await reader.readexactly(int(headers.get("content-length", 0)))
    return head[0], headers, body


class _Server:
    """A local HTTP server running ``handler`` per connection; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> LeanHttpNode:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer)
            except (asyncio.IncompleteReadError, ConnectionResetError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.node = LeanHttpNode(NodeConfig("http", "127.0.0.1", port, connections_per_node=2,
                                            request_timeout=2.0))
        return self.node

    async def __aexit__(self, *exc: Any) -> None:
        await self.node.close()
        assert self.server is not None
        self.server.close()


def _run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 10))


async def _echo_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request on the connection with its request line and body."""
    while True:
        line, headers, body = await _read_request(reader)
        writer.write(_answer(line.encode() + b"|" + body + b"|" + headers.get("x-test", "").encode()))
        await writer.drain()


async def _never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read a request and hold the connection without an answer."""
    await _read_request(reader)
    await asyncio.sleep(5)


def test_requests_go_over_one_kept_alive_connection() -> None:
    server = _Server(_echo_forever)

    async def main() -> None:
        async with server as node:
            for i in range(5):
                resp = await node.perform_request("POST", f"/i/_search?n={i}", b'{"q":1}',
                                                  HttpHeaders({"x-test": "yes"}))
                assert resp.meta.status == 200
                assert resp.body == f"POST /i/_search?n={i} HTTP/1.1|{{\"q\":1}}|yes".encode()
                assert resp.meta.headers["Content-Type"] == "application/json"
        assert server.connections == 1

    _run(main)


def test_a_chunked_answer_in_pieces_is_read_whole() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await _read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
            for piece in (b"5\r\n{\"a\":\r\n", b"2\r\n1}\r\n", b"0\r\n\r\n"):
                await writer.drain()
                await asyncio.sleep(0.01)  # each piece its own segment
                writer.write(piece)
            await writer.drain()

    server = _Server(chunked)

    async def main() -> None:
        async with server as node:
            for _ in range(2):  # and the connection serves the next request
                assert (await node.perform_request("GET", "/")).body == b'{"a":1}'
        assert server.connections == 1

    _run(main)


def test_more_requests_than_connections_wait_for_one() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line, _, _ = await _read_request(reader)
            await asyncio.sleep(0.05)
            writer.write(_answer(line.encode()))
            await writer.drain()

    server = _Server(slow)

    async def main() -> None:
        async with server as node:
            answers = await asyncio.gather(*(node.perform_request("GET", f"/{i}") for i in range(8)))
            assert sorted(a.body for a in answers) == sorted(f"GET /{i} HTTP/1.1".encode() for i in range(8))
        assert server.connections == 2  # the limit (connections_per_node), each reused

    _run(main)


def test_a_slow_answer_times_out_and_its_connection_is_not_reused() -> None:
    calls = 0

    async def first_slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        while True:
            await _read_request(reader)
            calls += 1
            if calls == 1:
                await asyncio.sleep(1)
            writer.write(_answer())
            await writer.drain()

    server = _Server(first_slow)

    async def main() -> None:
        async with server as node:
            with pytest.raises(ConnectionTimeout):
                await node.perform_request("GET", "/", request_timeout=0.1)
            # The late answer of the first request must not be read as the second's.
            resp = await node.perform_request("GET", "/")
            assert resp.body == b'{"ok":true}'
        assert server.connections == 2

    _run(main)


def test_the_timeout_covers_the_wait_for_a_free_connection() -> None:
    server = _Server(_never_answer)

    async def main() -> None:
        async with server as node:
            busy = [asyncio.create_task(node.perform_request("GET", "/", request_timeout=None)) for _ in range(2)]
            await asyncio.sleep(0.05)  # both connections (the limit) now wait on their answers
            started = asyncio.get_running_loop().time()
            with pytest.raises(ConnectionTimeout):
                await node.perform_request("GET", "/", request_timeout=0.1)
            assert asyncio.get_running_loop().time() - started < 1
            for task in busy:
                task.cancel()
            await asyncio.gather(*busy, return_exceptions=True)
            assert node._open == 0

    _run(main)


def test_a_connection_the_server_closes_is_replaced() -> None:
    async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(_answer(extra="connection: close\r\n"))
        await writer.drain()

    server = _Server(one_then_close)

    async def main() -> None:
        async with server as node:
            for _ in range(3):
                assert (await node.perform_request("GET", "/")).body == b'{"ok":true}'
        assert server.connections == 3

    _run(main)


@pytest.mark.parametrize("reply", [b"", b"this is not HTTP\r\n\r\n"], ids=["closed", "garbage"])
def test_a_broken_answer_is_a_connection_error(reply: bytes) -> None:
    async def broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(reply)
        await writer.drain()

    server = _Server(broken)

    async def main() -> None:
        async with server as node:
            with pytest.raises(ConnectionError):
                await node.perform_request("GET", "/")
            assert node._open == 0  # nothing leaked: the next request may open a connection

    _run(main)


def test_head_gets_its_status_without_waiting_for_a_body() -> None:
    async def head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line, _, _ = await _read_request(reader)
        assert line.startswith("HEAD ")
        # A HEAD answer announces the body a GET would get, and sends none.
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(5)

    server = _Server(head)

    async def main() -> None:
        async with server as node:
            resp = await node.perform_request("HEAD", "/_alias/products")
            assert (resp.meta.status, resp.body) == (200, b"")

    _run(main)


def test_a_cancelled_request_frees_its_connection() -> None:
    server = _Server(_never_answer)

    async def main() -> None:
        async with server as node:
            for _ in range(3):  # more than the 2 connections: a leaked place would hang the third
                task = asyncio.create_task(node.perform_request("GET", "/"))
                await asyncio.sleep(0.05)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            assert node._open == 0

    _run(main)


def test_refused_connection_is_a_connection_error() -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        node = LeanHttpNode(NodeConfig("http", "127.0.0.1", port))
        with pytest.raises(ConnectionError):
            await node.perform_request("GET", "/")
        assert node._open == 0

    _run(main)


def test_tls_and_compression_use_the_clients_default_node() -> None:
    assert node_class("http://es:9200", "lean") is LeanHttpNode
    assert node_class("https://es:9200", "lean") is AiohttpHttpNode
    assert node_class("http://es:9200", "aiohttp") is AiohttpHttpNode
    with pytest.raises(ValueError):
        LeanHttpNode(NodeConfig("http", "127.0.0.1", 9200, http_compress=True))

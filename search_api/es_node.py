"""The HTTP node the API's Elasticsearch client sends its requests through.

The official client (``elasticsearch`` on ``elastic-transport``) keeps its API, its
serializer, its retries and its error types; only the last step, one HTTP/1.1 exchange on a
kept-alive connection, is this module's. ``elastic-transport`` makes that step pluggable
(``node_class``) for exactly this.

Why: aiohttp's request machinery (timeouts, cookie jar, tracing signals, a stream reader per
response) cost the API ~0.14 ms of CPU per ES request more than this (0.41 against 0.27 ms,
orjson decoding included, for the same search on this box), and a search makes 1.3 requests
on the real-query mix. The wire work is httptools' (the HTTP parser uvicorn runs on), the
sockets the event loop's own transports.

What it does not do, and where the client falls back to aiohttp (``es_client_node``):
TLS, and gzip (``http_compress``). Requests are plain ``http://``, as to a node on the same
host or network.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import httptools
from elastic_transport import (
    AiohttpHttpNode,
    ApiResponseMeta,
    BaseAsyncNode,
    ConnectionError,
    ConnectionTimeout,
    HttpHeaders,
    NodeConfig,
)
from elastic_transport._node._base import NodeApiResponse  # what perform_request returns (not re-exported)
from elastic_transport.client_utils import DEFAULT, DefaultType


class _Connection(asyncio.Protocol):
    """One kept-alive connection: one request at a time, its response parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self._waiter: asyncio.Future[tuple[int, list[tuple[str, str]], bytes]] | None = None
        self._head = False
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []

    def send(self, data: bytes, waiter: asyncio.Future[Any], *, head: bool) -> None:
        assert self.transport is not None and self._waiter is None
        self._waiter, self._head = waiter, head
        self._headers, self._body = [], []
        self.transport.write(data)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as err:  # garbage, or bytes nobody asked for
            self._fail(err)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(exc or OSError("Elasticsearch closed the connection"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        if self._head:
            # A HEAD response announces a body it never sends, and the parser cannot be told the
            # request was HEAD: answer now, and do not reuse the connection.
            self._done(keep_alive=False)

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._done(keep_alive=self.parser.should_keep_alive())

    def _done(self, *, keep_alive: bool) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((self.parser.get_status_code(), self._headers, b"".join(self._body)))
        if not keep_alive:
            self.close()

    def _fail(self, exc: BaseException) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class LeanHttpNode(BaseAsyncNode):
    """``elastic-transport`` node over plain HTTP/1.1 with httptools: up to
    ``connections_per_node`` kept-alive connections; a request beyond them waits for one."""

    _CLIENT_META_HTTP_CLIENT = ("ht", httptools.__version__)

    def __init__(self, config: NodeConfig) -> None:
        if config.scheme != "http" or config.http_compress:
            raise ValueError("LeanHttpNode speaks plain HTTP without compression; use the aiohttp node")
        super().__init__(config)
        self._limit = config.connections_per_node
        self._open = 0
        self._idle: list[_Connection] = []
        self._waiting: deque[asyncio.Future[None]] = deque()
        host = f"[{config.host}]" if ":" in config.host else config.host
        self._request_head = f"host: {host}:{config.port}\r\n"

    async def perform_request(  # type: ignore[override]
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: DefaultType | float | None = DEFAULT,
    ) -> NodeApiResponse:
        loop = asyncio.get_running_loop()
        timeout = self.config.request_timeout if request_timeout is DEFAULT else request_timeout
        request_headers = self._headers.copy()
        if headers:
            request_headers.update(headers)
        data = self._encode(method, target, request_headers, body)
        start = loop.time()
        conn: _Connection | None = None
        try:
            # The timeout covers the whole exchange, as aiohttp's total timeout does: the wait for
            # a free connection and the connect too, so an unreachable host cannot hang a search.
            async with asyncio.timeout(timeout or None):
                conn = await self._checkout()
                waiter: asyncio.Future[tuple[int, list[tuple[str, str]], bytes]] = loop.create_future()
                conn.send(data, waiter, head=method == "HEAD")
                status, response_headers, raw = await waiter
        except BaseException as err:
            if conn is not None:
                conn.close()  # its answer may still come, to nobody: never reuse it
                self._checkin(conn)
            if not isinstance(err, Exception) or isinstance(err, RecursionError):
                raise  # cancelled (the shopper left, or the gate's deadline), or worse
            failure = (ConnectionTimeout("Connection timed out during request", errors=(err,))
                       if isinstance(err, TimeoutError) else ConnectionError(str(err) or repr(err), errors=(err,)))
            self._log_request(method=method, target=target, headers=request_headers, body=body, exception=failure)
            raise failure from None
        self._checkin(conn)
        meta = ApiResponseMeta(node=self.config, duration=loop.time() - start, http_version="1.1",
                               status=status, headers=HttpHeaders(response_headers))
        self._log_request(method=method, target=target, headers=request_headers, body=body, meta=meta,
                          response=raw)
        return NodeApiResponse(meta, raw)

    def _encode(self, method: str, target: str, headers: HttpHeaders, body: bytes | None) -> bytes:
        lines = [f"{method} {self.path_prefix}{target} HTTP/1.1\r\n", self._request_head]
        lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
        if body:
            lines.append(f"content-length: {len(body)}\r\n")
        head = "".join(lines).encode("latin-1") + b"\r\n"
        return head + body if body else head

    async def _checkout(self) -> _Connection:
        while True:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn
                self._open -= 1
            if self._open < self._limit:
                self._open += 1
                try:
                    _, conn = await asyncio.get_running_loop().create_connection(_Connection, self.host, self.port)
                except BaseException:
                    self._open -= 1
                    self._wake_one()
                    raise
                return conn
            turn = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
            try:
                await turn
            except BaseException:
                if turn.done() and not turn.cancelled():
                    self._wake_one()  # woken just as it was cancelled: pass the turn on
                elif turn in self._waiting:
                    self._waiting.remove(turn)
                raise

    def _checkin(self, conn: _Connection) -> None:
        if conn.closed:
            self._open -= 1
        else:
            self._idle.append(conn)
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return

    async def close(self) -> None:  # type: ignore[override]
        for conn in self._idle:
            conn.close()
        self._open -= len(self._idle)
        self._idle.clear()


def node_class(es_url: str, choice: str) -> type[BaseAsyncNode]:
    """The client's ``node_class`` for ``es_url``: this module's node when ``choice`` is
    ``"lean"`` and the URL is plain ``http://``; aiohttp's otherwise (TLS)."""
    return LeanHttpNode if choice == "lean" and es_url.startswith("http://") else AiohttpHttpNode


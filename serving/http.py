"""HTTP/1.1 on asyncio with httptools: keep-alive, pipelining, bounded heads, bodies and time.

The request path is short on purpose: parse the head, collect the body, call the app,
write one preassembled response. Responses go out in request order (pipelining); a request
with many rows is answered a slice at a time, letting other connections' requests in between,
so a 6 MB body cannot stall every small request on the worker. A malformed request gets a 400 and the connection closes;
the process keeps serving everyone else. No client holds more than `Limits` allows: a head
above the limit gets 431 before more of it is buffered, a request slower than the read
timeout 408, an idle keep-alive connection is closed, and a connection above the worker's
cap 503.
"""

from __future__ import annotations

import asyncio
from collections import deque

import httptools

from serving.app import MAX_PAYLOAD_BYTES, TOO_LARGE, InferenceApp, Response, Work
from serving.limits import Limits

_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    405: b"Method Not Allowed",
    408: b"Request Timeout",
    413: b"Payload Too Large",
    415: b"Unsupported Media Type",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    503: b"Service Unavailable",
}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_LINGER_SECONDS = 2.0
HEAD_TOO_LARGE = Response(431, b"request line and headers above the limit\n")
TIMED_OUT = Response(408, b"the request did not arrive in time\n")
BUSY = Response(503, b"too many open connections to this worker\n")


def encode(response: Response, keep_alive: bool) -> bytes:
    return b"".join(
        (
            b"HTTP/1.1 %d %s\r\n" % (response.status, _REASONS.get(response.status, b"Error")),
            b"Content-Type: %s\r\nContent-Length: %d\r\n" % (response.content_type, len(response.body)),
            b"" if keep_alive else b"Connection: close\r\n",
            b"\r\n",
            response.body,
        )
    )


class HttpProtocol(asyncio.Protocol):
    __slots__ = (
        "app",
        "body",
        "closing",
        "completed_in_feed",
        "connections",
        "content_type",
        "expect_continue",
        "head_bytes",
        "in_head",
        "limits",
        "parser",
        "queue",
        "size",
        "timer",
        "too_large",
        "transport",
        "url",
    )

    def __init__(self, app: InferenceApp, limits: Limits, connections: set[HttpProtocol]):
        self.app = app
        self.limits = limits
        self.connections = connections
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.completed_in_feed = False
        self.closing = False
        self.queue: deque[tuple[Response | Work, bool]] = deque()
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.content_type: bytes | None = None
        self.body: list[bytes] = []
        self.size = 0
        self.too_large = False
        self.head_bytes = 0
        self.in_head = False
        self.expect_continue = False

    # --- the connection ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if len(self.connections) >= self.limits.max_connections:
            self._close_with(BUSY)
            return
        self.connections.add(self)
        self._arm(self.limits.idle_timeout, None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self._disarm()
        self.queue.clear()
        self.closing = True

    def _arm(self, seconds: float, response: Response | None) -> None:
        """Closes the connection after `seconds` (answering `response` first, if any)."""
        self._disarm()
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(seconds, self._close_with, response)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.completed_in_feed = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # The request before the upgrade has had its answer; what follows is not HTTP/1.1.
            if self.completed_in_feed:
                self._close_with(None)
            else:
                self._close_with(Response(400, b"protocol upgrades are not supported\n"))
            return
        except httptools.HttpParserError as exc:
            self._close_with(Response(400, f"malformed HTTP request: {exc}\n".encode()))
            return
        if self.in_head:
            # httptools buffers a header until it is whole, so count raw bytes. Where a message
            # ended in this chunk the next head's share of it is unknown, but at most one read.
            self.head_bytes = 0 if self.completed_in_feed else self.head_bytes + len(data)
            if self.head_bytes > self.limits.max_head_bytes:
                self._close_with(HEAD_TOO_LARGE)

    def _close_with(self, response: Response | None) -> None:
        """Answers `response` (if any) and closes.

        With an answer, the close lingers: unread bytes from the client at close() make the
        kernel send a reset, which can destroy the answer before the client reads it. So we
        half-close, drop what still comes for a moment, then close.
        """
        self._disarm()
        transport = self.transport
        if transport is None or transport.is_closing() or self.closing:
            return
        self.closing = True
        if response is None:
            transport.close()
            return
        transport.write(encode(response, keep_alive=False))
        if transport.can_write_eof():
            transport.write_eof()
        self.timer = asyncio.get_running_loop().call_later(_LINGER_SECONDS, transport.close)

    # --- httptools callbacks -----------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.in_head = True
        self._arm(self.limits.read_timeout, TIMED_OUT)

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-type":
            self.content_type = value
        elif name == b"content-length" and value.isdigit() and int(value) > MAX_PAYLOAD_BYTES:
            # Refuse before reading a body that large; the connection cannot be reused.
            self._close_with(TOO_LARGE)
        elif name == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True

    def on_headers_complete(self) -> None:
        self.in_head = False
        if self.expect_continue and self.transport is not None and not self.transport.is_closing():
            # The client waits for this before sending the body.
            self.transport.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        if self.too_large:
            return
        self.body.append(body)
        self.size += len(body)
        if self.size > MAX_PAYLOAD_BYTES:
            self.too_large, self.body = True, []

    def on_message_complete(self) -> None:
        self.completed_in_feed = True
        self._disarm()
        if self.closing or self.transport is None or self.transport.is_closing():
            return
        if self.too_large:
            item: Response | Work = TOO_LARGE
            keep_alive = False
        else:
            item = self.app.work(self.parser.get_method(), self.url, self.content_type, b"".join(self.body))
            keep_alive = self.parser.should_keep_alive()
        self._reset()
        self.queue.append((item, keep_alive))
        if len(self.queue) == 1:
            self._drain()

    # --- answering, in order, a slice at a time ------------------------------------------------
    def _drain(self) -> None:
        """Answers queued requests in order; a large one pauses between slices for other clients."""
        transport = self.transport
        while self.queue and transport is not None and not self.closing:
            item, keep_alive = self.queue[0]
            response = item if isinstance(item, Response) else self._step(item)
            if response is None:
                if transport.is_reading():
                    transport.pause_reading()  # no more requests buffered while this one runs
                asyncio.get_running_loop().call_soon(self._drain)
                return
            self.queue.popleft()
            transport.write(encode(response, keep_alive))
            if not keep_alive:
                self.closing = True
                transport.close()
                return
        if transport is not None and not self.closing:
            if not transport.is_reading():
                transport.resume_reading()
            self._arm(self.limits.idle_timeout, None)

    @staticmethod
    def _step(work: Work) -> Response | None:
        try:
            next(work)
        except StopIteration as done:
            return done.value
        except Exception as exc:  # the contract: report and keep serving
            return Response(500, f"internal error: {type(exc).__name__}: {exc}\n".encode())
        return None

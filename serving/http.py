"""HTTP/1.1 on asyncio with httptools: keep-alive, pipelining, bounded bodies.

The request path is short on purpose: parse the head, collect the body, call the app,
write one preassembled response. A malformed request gets a 400 and the connection closes;
the process keeps serving everyone else.
"""

from __future__ import annotations

import asyncio

import httptools

from serving.app import MAX_PAYLOAD_BYTES, TOO_LARGE, InferenceApp, Response

_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    405: b"Method Not Allowed",
    413: b"Payload Too Large",
    415: b"Unsupported Media Type",
    500: b"Internal Server Error",
}


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
    __slots__ = ("app", "body", "content_type", "parser", "size", "too_large", "transport", "url")

    def __init__(self, app: InferenceApp):
        self.app = app
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.content_type: bytes | None = None
        self.body: list[bytes] = []
        self.size = 0
        self.too_large = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._close_with(Response(400, b"protocol upgrades are not supported\n"))
        except httptools.HttpParserError as exc:
            self._close_with(Response(400, f"malformed HTTP request: {exc}\n".encode()))

    def _close_with(self, response: Response) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode(response, keep_alive=False))
            self.transport.close()

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-type":
            self.content_type = value
        elif name == b"content-length" and value.isdigit() and int(value) > MAX_PAYLOAD_BYTES:
            # Refuse before reading a body that large; the connection cannot be reused.
            self._close_with(TOO_LARGE)

    def on_body(self, body: bytes) -> None:
        if self.too_large:
            return
        self.body.append(body)
        self.size += len(body)
        if self.size > MAX_PAYLOAD_BYTES:
            self.too_large, self.body = True, []

    def on_message_complete(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self.too_large:
            self._close_with(TOO_LARGE)
            return
        method = self.parser.get_method()
        try:
            response = self.app.handle(method, self.url, self.content_type, b"".join(self.body))
        except Exception as exc:  # the contract: report and keep serving
            response = Response(500, f"internal error: {type(exc).__name__}: {exc}\n".encode())
        keep_alive = self.parser.should_keep_alive()
        self.transport.write(encode(response, keep_alive))
        if not keep_alive:
            self.transport.close()
        self._reset()

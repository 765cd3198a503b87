"""The playground's web app: FastAPI on uvicorn, bound to 127.0.0.1 unless told otherwise.

``GET /`` is the page (``static/index.html``), ``/static/*`` its scripts and styles (vendored:
it works offline), and ``/ws`` a WebSocket per browser tab, each with its own
:class:`~.session.Session`. Every message is checked (:mod:`.protocol`); a bad one gets an
``error`` message and the socket stays open. Training, resets and exports run in threads, so
the event loop only moves messages; frames go out one at a time, each after the page
acknowledged the previous one.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import uvicorn
from fastapi import FastAPI, WebSocket
from fastapi.responses import FileResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from .._errors import one_line
from .protocol import MAX_MESSAGE_BYTES, ProtocolError, validate_message
from .session import Session

__all__ = ["create_app", "make_server", "serve", "PortInUse", "STATIC"]

STATIC = Path(__file__).parent / "static"
_POLL = 0.25  # seconds the sender waits for something to send before looking again


class PortInUse(OSError):
    """The port asked for is taken (or not ours to bind)."""


def create_app(max_sessions: int = 8) -> FastAPI:
    """The playground app; at most ``max_sessions`` WebSockets train at once (one more gets
    an error message and is closed)."""
    app = FastAPI(title="sinapsi playground", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.active = 0
    app.state.max_sessions = max_sessions

    @app.get("/", response_model=None)
    def index() -> Response:
        page = STATIC / "index.html"
        if not page.is_file():
            return PlainTextResponse("the playground page is missing from this install", 500)
        return FileResponse(page, media_type="text/html", headers={"Cache-Control": "no-store"})

    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        if not _same_origin(websocket):
            await websocket.send_json(
                {
                    "type": "error",
                    "message": "this socket is for the playground page served "
                    "here; open the page from this server.",
                }  # fmt: skip
            )
            await websocket.close(code=1008)
            return
        if app.state.active >= app.state.max_sessions:
            await websocket.send_json(
                {
                    "type": "error",
                    "message": f"the playground already has "
                    f"{app.state.max_sessions} open sessions: close a tab and reload.",
                }  # fmt: skip
            )
            await websocket.close(code=1013)
            return
        app.state.active += 1
        try:
            await _serve_socket(websocket)
        finally:
            app.state.active -= 1

    return app


def _same_origin(websocket: WebSocket) -> bool:
    """A browser page from another site must not drive the playground: its Origin header
    (sent by every browser) must name this server; clients without one (tests, tools) pass."""
    origin = websocket.headers.get("origin")
    if not origin:
        return True
    return urlsplit(origin).netloc.lower() == websocket.headers.get("host", "").lower()


async def _serve_socket(websocket: WebSocket) -> None:
    """One tab: a Session, a receive loop and a sender, until the socket closes."""
    lock = asyncio.Lock()

    async def send(message: dict[str, Any]) -> None:
        async with lock:
            await websocket.send_json(message)

    session = Session()
    try:
        await send(session.hello())
        try:
            await anyio.to_thread.run_sync(session.start)
        except ProtocolError as e:
            await send({"type": "error", "message": one_line(e)})
        sender = asyncio.create_task(_sender(session, send))
        try:
            await _receive(websocket, session, send)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
    finally:  # also when the connection's task is cancelled: the thread must stop
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(session.close)


async def _sender(session: Session, send: Callable[[dict[str, Any]], Any]) -> None:
    """Sends what the session has: queued messages, then a frame whenever the state changed
    and the page acknowledged the previous frame."""
    version = -1
    while not session.closed:
        try:
            out = await anyio.to_thread.run_sync(session.next_message, version, _POLL)
        except ProtocolError as e:
            await send({"type": "error", "message": one_line(e)})
            await asyncio.sleep(_POLL)
            continue
        if out is not None:
            message, version = out
            await send(message)


async def _receive(
    websocket: WebSocket, session: Session, send: Callable[[dict[str, Any]], Any]
) -> None:
    while True:
        event = await websocket.receive()
        if event["type"] == "websocket.disconnect":
            return
        raw = event.get("text")
        if raw is None:
            raw = event.get("bytes") or b""
        try:
            kind, payload = validate_message(raw)
            if kind == "ack":  # every frame: no thread needed
                session.ack()
                continue
            reply = await anyio.to_thread.run_sync(session.handle, kind, payload)
        except ProtocolError as e:
            await send({"type": "error", "message": one_line(e)})
            continue
        except Exception as e:  # a bug must not close the socket: say it, keep serving
            await send(
                {
                    "type": "error",
                    "message": f"internal error ({type(e).__name__}: "
                    f"{one_line(e)[:200]}); press reset.",
                }  # fmt: skip
            )
            continue
        if reply is not None:
            await send(reply)


# ------------------------------------------------------------------------------ serving
def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on exactly ``host:port`` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        if e.errno in (errno.EADDRINUSE, errno.EACCES):
            why = "in use" if e.errno == errno.EADDRINUSE else "not allowed"
            raise PortInUse(e.errno, f"port {port} on {host} is {why}") from None
        raise
    return sock


def make_server(
    host: str = "127.0.0.1", port: int = 8765, max_sessions: int = 8
) -> tuple[uvicorn.Server, socket.socket]:
    """A uvicorn server for the app and its socket, bound now (so the port is known, and a
    port in use fails here); ``server.run(sockets=[sock])`` serves."""
    sock = _bind(host, port)
    config = uvicorn.Config(
        create_app(max_sessions),
        log_level="warning",
        lifespan="off",
        ws_max_size=MAX_MESSAGE_BYTES + 4096,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config), sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = True,
    log: Callable[[str], None] = print,
) -> None:
    """Serve the playground until Ctrl-C: print its URL (and open it in a browser)."""
    server, sock = make_server(host, port)
    url = url_of(sock)
    log(f"sinapsi playground: {url}  (Ctrl-C stops it)")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()

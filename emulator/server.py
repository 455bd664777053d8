"""Running the emulator: a threaded WSGI server on 127.0.0.1 (never another address)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import make_server

from emulator.context import DUMMY_CREDENTIALS

HOST = "127.0.0.1"


class _Late:
    """The WSGI app is built once the port is known (it needs its own URL)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def serve(port: int, work_dir: Path, region: str = "us-east-1", ready: threading.Event | None = None) -> None:
    late = _Late()
    server = make_server(HOST, port, late, threaded=True, request_handler=MotoRequestHandler)
    url = f"http://{HOST}:{server.server_port}"
    # The emulator's own parts (pipeline steps, jobs) call AWS through the same code path as
    # the product: the endpoint is this server, the credentials are placeholders.
    os.environ.update(
        AWS_ENDPOINT_URL=url, AWS_DEFAULT_REGION=region, MOTO_PORT=str(server.server_port), **DUMMY_CREDENTIALS
    )
    from emulator.app import Emulator

    late.app = Emulator(url, region, work_dir)
    logging.getLogger("rtb_mlops.emulator").info("emulator listening on %s (work folder %s)", url, work_dir)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    if ready is not None:
        ready.set()
    try:
        server.serve_forever()
    finally:
        late.app.shutdown()
        server.server_close()

"""The model server as a real process: HTTP framing, hostile input, clean shutdown."""

import http.client
import re
import select
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from serving.child import Child, spawn
from tests.conftest import GUIDANCE_ROW, GUIDANCE_SCORE, REPO

pytestmark = pytest.mark.integration


def start_server(model, workers: int, *flags: str) -> tuple[Child, int]:
    cmd = [sys.executable, "-m", "serving", "--model-artifact", str(model), "--port", "0", "--workers", str(workers)]
    cmd += flags
    child = spawn(cmd, cwd=REPO, stdout=subprocess.DEVNULL)
    line = child.wait_ready(300)
    match = re.search(rf"at http://(127\.0\.0\.1):(\d+) \({workers} workers, predictor compiled\)", line)
    assert match, line
    return child, int(match.group(2))


@pytest.fixture(scope="module")
def server(guidance_model):
    child, port = start_server(guidance_model, 2)
    yield child.proc, port
    child.stop()


def request(port, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {"Content-Type": "text/csv"})
    r = conn.getresponse()
    return r.status, r.read()


def raw(port, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_ping_and_known_score(server):
    _, port = server
    assert request(port, "GET", "/ping")[0] == 200
    status, body = request(port, "POST", "/invocations", GUIDANCE_ROW)
    assert status == 200 and float(body) == pytest.approx(GUIDANCE_SCORE, abs=1e-7)


def test_keep_alive_and_pipelining(server):
    _, port = server
    one = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n%s" % (
        len(GUIDANCE_ROW), GUIDANCE_ROW,
    )  # fmt: skip
    closing = one.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n")
    reply = raw(port, one * 3 + closing)
    assert reply.count(b"HTTP/1.1 200 OK") == 4


def test_garbage_gets_400_and_the_server_keeps_serving(server):
    _, port = server
    assert raw(port, b"\x16\x03\x01\x02\x00garbage tls hello\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw(port, b"GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert request(port, "POST", "/invocations", GUIDANCE_ROW)[0] == 200


def test_oversized_payload_is_refused_before_it_is_read(server):
    _, port = server
    head = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 7000000\r\n\r\n"
    assert raw(port, head).startswith(b"HTTP/1.1 413")


def test_oversized_chunked_payload(server):
    _, port = server
    chunk = b"1" * 1_000_000
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(7)) + b"0\r\n\r\n"
    head = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert raw(port, head + body).startswith(b"HTTP/1.1 413")
    assert request(port, "POST", "/invocations", GUIDANCE_ROW)[0] == 200


def test_statuses_over_http(server):
    _, port = server
    assert request(port, "POST", "/invocations", b"{}", {"Content-Type": "application/json"})[0] == 415
    status, body = request(port, "POST", "/invocations", b"1,2")
    assert status == 400 and b"2 fields, expected 7" in body


def test_a_head_above_the_limit_gets_431_and_the_server_keeps_serving(server):
    _, port = server
    head = b"POST /invocations HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 300_000 + b"\r\n\r\n"
    assert raw(port, head).startswith(b"HTTP/1.1 431")
    assert request(port, "POST", "/invocations", GUIDANCE_ROW)[0] == 200


def test_expect_100_continue_is_answered_before_the_body_is_sent(server):
    _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nExpect: 100-continue\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(GUIDANCE_ROW))  # fmt: skip
        assert s.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(GUIDANCE_ROW)
        assert s.recv(4096).startswith(b"HTTP/1.1 200 OK")


def test_an_upgrade_request_gets_one_response(server):
    _, port = server
    reply = raw(port, b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
    assert reply.count(b"HTTP/1.1 ") == 1 and reply.startswith(b"HTTP/1.1 200")


@pytest.fixture(scope="module")
def strict_server(example_model):
    limits = ["--read-timeout", "1", "--idle-timeout", "1", "--max-connections", "3"]
    child, port = start_server(example_model.model_path, 1, *limits)
    yield port
    child.stop()


def test_a_request_that_never_finishes_gets_408(strict_server):
    started = time.monotonic()
    reply = raw(strict_server, b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n1,2")
    assert reply.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 4


def test_an_idle_keep_alive_connection_is_closed(strict_server):
    with socket.create_connection(("127.0.0.1", strict_server), timeout=5) as s:
        s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert s.recv(4096) == b""  # closed by the server, not by our 5 s timeout
        assert time.monotonic() - started < 4


def test_connections_above_the_cap_get_503_and_the_others_keep_working(strict_server):
    held = [socket.create_connection(("127.0.0.1", strict_server), timeout=5) for _ in range(3)]
    try:
        time.sleep(0.2)  # the worker accepts them
        assert raw(strict_server, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 503")
        held[0].sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        assert held[0].recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        for s in held:
            s.close()


def test_a_killed_worker_is_replaced_and_a_crash_loop_stops_the_server(example_model):
    child, port = start_server(example_model.model_path, 2, "--max-worker-restarts", "1")
    supervisor = psutil.Process(child.proc.pid)
    first = supervisor.children()[0]
    first.kill()
    deadline = time.monotonic() + 60
    while {p.pid for p in supervisor.children()} & {first.pid} or len(supervisor.children()) < 2:
        assert time.monotonic() < deadline, "the worker was not replaced"
        time.sleep(0.2)
    assert request(port, "POST", "/invocations", b"4,7,0,0,0,39,1")[0] == 200
    supervisor.children()[0].kill()  # the second death within a minute: more than allowed
    assert child.proc.wait(30) == 1
    child.cut()


def test_a_single_row_is_answered_while_a_6mb_request_is_scored(example_model):
    child, port = start_server(example_model.model_path, 1)
    try:
        big = b"\n".join([b"4,7,0,0,0,39,1"] * 400_000)[: 6 * 1024 * 1024 - 100].rsplit(b"\n", 1)[0]
        with (
            socket.create_connection(("127.0.0.1", port), timeout=30) as large,
            socket.create_connection(("127.0.0.1", port), timeout=30) as small,
        ):
            large.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(big), big))  # fmt: skip
            time.sleep(0.3)  # the worker has the body and is scoring it
            small.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 14\r\n\r\n4,7,0,0,0,39,1")
            first, _, _ = select.select([large, small], [], [], 30)
            assert first == [small], "the single row waited for the 6 MB request"
            assert small.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        child.stop()


def test_sigterm_stops_everything_cleanly(server):
    proc, port = server
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    time.sleep(0.2)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


def test_workers_do_not_outlive_a_server_killed_with_sigkill(guidance_model):
    child, _ = start_server(guidance_model, 2)
    workers = psutil.Process(child.proc.pid).children()
    assert len(workers) == 2
    child.proc.kill()
    child.proc.wait()
    _, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, f"workers {[p.pid for p in alive]} outlived their server"
    child.cut()


def test_an_emulator_killed_with_sigkill_leaves_no_model_server(example_model):
    holder = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from emulator.model_servers import ModelServer\n"
        "server = ModelServer(Path(sys.argv[1]), {}, workers=2)\n"
        "print(server.start(), flush=True)\n"
        "time.sleep(600)\n"
    )
    emulator = subprocess.Popen(
        [sys.executable, "-c", holder, example_model.model_path], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert emulator.stdout.readline().startswith("http://127.0.0.1:")
    servers = psutil.Process(emulator.pid).children(recursive=True)
    assert len(servers) == 3  # the server and its two workers
    emulator.kill()
    emulator.wait()
    _, alive = psutil.wait_procs(servers, timeout=20)
    assert not alive, f"{[p.cmdline() for p in alive]} outlived the emulator"

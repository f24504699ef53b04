"""A real HTTP server on a free loopback port that answers from a script.

    with ScriptedPeer([Reply(429, headers={"Retry-After": "1"}), Reply(201)]) as peer:
        ... point a client at peer.url ...
        peer.requests  # what the client sent, in order

Used where the real peer (Kong) cannot run here: the client under test still
speaks real HTTP over a real socket.
"""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.utils.redis_server import free_port


@dataclass
class Reply:
    status: int
    body: object = None
    headers: dict = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class ScriptedPeer:
    def __init__(self, script: list[Reply] | Callable[[Seen], Reply]) -> None:
        self.script = script
        self.requests: list[Seen] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, split.path, parse_qs(split.query), self.rfile.read(length))
                peer.requests.append(seen)
                reply = peer._next(seen)
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.status != 304:
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if reply.status != 304:
                    self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def _next(self, seen: Seen) -> Reply:
        if callable(self.script):
            return self.script(seen)
        if not self.script:
            return Reply(500, {"message": "script exhausted"})
        return self.script.pop(0)

    def __enter__(self) -> "ScriptedPeer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

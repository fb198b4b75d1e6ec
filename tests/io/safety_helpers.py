"""Helpers for the safety tests (imported as ``safety_helpers``): the real ``preflab`` app run in-process (typer's CliRunner),
with :class:`PreflabError` turned into its exit code and one-line message as ``main()`` does."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from preflab.errors import PreflabError


@dataclass
class Result:
    code: int
    output: str
    exception: BaseException | None


def cli(*args) -> Result:
    from preflab.cli.main import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    exc = result.exception
    if isinstance(exc, PreflabError):
        from preflab.cli.adapter import render

        return Result(exc.exit_code, result.output + f"error: {render(exc)}\n", None)
    if exc is not None and not isinstance(exc, SystemExit):
        return Result(99, result.output, exc)
    return Result(result.exit_code, result.output, None)


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with the sha256 of its bytes (folders as '<dir>')."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
            for p in sorted(root.rglob("*"))}


def write_pairs_file(path: Path, n: int = 12) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"prompt": f"question {i}", "chosen": f"a careful, complete answer {i}", "rejected": f"no {i}"} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


class SilentServer:
    """Accepts TCP connections and never answers (a stalled server)."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.conns: list = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def __enter__(self) -> "SilentServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        import socket

        try:  # wakes the accept() blocked in the thread; close() alone leaves the port listening
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=5)
        for conn in self.conns:
            conn.close()


class KeyEchoServer:
    """An OpenAI-compatible endpoint that refuses every request with HTTP 401 and echoes the
    Authorization header in its error body (as some proxies do); or answers when ``ok``."""

    def __init__(self, ok: bool = False, text: str = "hello") -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self
        self.requests: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                outer.requests.append(body)
                if ok:
                    payload = {"id": "x", "object": "chat.completion", "created": 0, "model": body.get("model"),
                               "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                            "message": {"role": "assistant", "content": f"{text} {len(outer.requests)}"}}],
                               "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
                    code = 200
                else:
                    payload = {"error": {"message": f"bad key: {self.headers.get('Authorization')}"}}
                    code = 401
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, userinfo: str = "") -> str:
        return f"http://{userinfo + '@' if userinfo else ''}127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "KeyEchoServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

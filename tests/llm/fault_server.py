"""A tiny OpenAI-compatible HTTP server for tests, with scripted faults.

It answers ``POST /v1/chat/completions`` deterministically (the text is a function of the last
message and the seed, so reruns can be compared) and ``GET /v1/models``. Each request first
takes the next behaviour from ``faults`` (FIFO; empty = answer normally):

* ``("status", code, retry_after_or_None)`` - an error status (with ``Retry-After``)
* ``("slow", seconds)`` - sleep, then answer (past the client's timeout: the client is gone)
* ``("truncated",)`` - a 200 whose body stops half way (connection closed early)
* ``("malformed",)`` - a 200 whose body is not JSON
* ``("no_logprobs_500",)`` - HTTP 500 if the request asks for logprobs, else answer
* ``("echo_key", code)`` - an error status whose message holds the raw key of the request's
  ``Authorization`` header, without "Bearer" (as some gateways do)

With ``upstream=URL`` it forwards chat requests to a real server instead (a counting proxy).

Everything it saw is in ``requests`` (bodies and whether an Authorization header came) and
``max_in_flight``.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def answer_text(messages: list[dict], seed: Any) -> str:
    return f"echo {messages[-1]['content']} / seed {seed}"


class FaultServer:
    def __init__(self, delay_s: float = 0.0, model: str = "fault-model", upstream: str | None = None) -> None:
        self.faults: collections.deque = collections.deque()
        self.requests: list[dict[str, Any]] = []
        self.counts: collections.Counter = collections.Counter()
        self.delay_s, self.model, self.upstream = delay_s, model, upstream
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None, length: int | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [{"id": server.model, "object": "model", "created": 0, "owned_by": "test"}]}).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server.lock:
                    fault = server.faults.popleft() if server.faults else None
                    server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization"), "fault": fault})
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._handle(body, fault)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def _handle(self, body: dict, fault: tuple | None) -> None:
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return self._send(404, b'{"error": {"message": "no such route"}}')
                kind = fault[0] if fault else None
                if kind == "status":
                    headers = {"Retry-After": str(fault[2])} if fault[2] is not None else {}
                    return self._send(fault[1], json.dumps({"error": {"message": f"scripted {fault[1]}"}}).encode(), headers)
                if kind == "echo_key":
                    key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    message = f"Access denied due to invalid subscription key {key}. Make sure to provide a valid key."
                    return self._send(fault[1], json.dumps({"error": {"code": "401", "message": message}}).encode())
                if kind == "slow":
                    time.sleep(fault[1])
                if kind == "no_logprobs_500" and body.get("logprobs"):
                    return self._send(500, b'{"error": {"message": "logits_all=False: logprobs not supported"}}')
                if server.delay_s:
                    time.sleep(server.delay_s)
                if server.upstream:  # a counting proxy in front of a real server
                    import httpx

                    reply = httpx.post(f"{server.upstream}/chat/completions", json=body, timeout=300)
                    with server.lock:
                        server.counts[(body["messages"][-1]["content"], body.get("seed"))] += 1
                    return self._send(reply.status_code, reply.content)
                text = answer_text(body["messages"], body.get("seed"))
                payload = json.dumps({
                    "id": "x", "object": "chat.completion", "created": 0, "model": body.get("model", server.model),
                    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 10 + len(text.split())},
                }).encode()
                if kind == "truncated":
                    self._send(200, payload[: len(payload) // 2], length=len(payload))
                    self.close_connection = True
                    return None
                if kind == "malformed":
                    return self._send(200, b"{this is not json")
                with server.lock:
                    server.counts[(body["messages"][-1]["content"], body.get("seed"))] += 1
                return self._send(200, payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "FaultServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].rstrip("/").endswith("/chat/completions")]

"""Failure alerts: a JSON POST to HUBGENOME_ALERT_WEBHOOK, received by a local HTTP server; never raising."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hubgenome.flows.alerts import alert_failure, post_alert


@pytest.fixture
def receiver():
    received: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Content-Type"], json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def test_alert_posts_the_summary_as_json(receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    url, received = receiver
    monkeypatch.setenv("HUBGENOME_ALERT_WEBHOOK", url)
    summary = {"pipeline_run_id": "r1", "failed_stage": "build", "error": "WarehouseBuildError: test failed"}
    assert alert_failure(summary) is True
    content_type, body = received[0]
    assert content_type == "application/json"
    assert body["summary"] == summary
    assert "r1 failed at stage 'build'" in body["text"]
    assert "still serving" in body["text"]


def test_no_webhook_no_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBGENOME_ALERT_WEBHOOK", raising=False)
    assert alert_failure({"failed_stage": "crawl"}) is False


def test_an_unreachable_webhook_never_raises() -> None:
    assert post_alert("http://127.0.0.1:9/hook", {"text": "x"}, timeout=2) is False

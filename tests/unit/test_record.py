"""`connector record`: a real exchange with a (local) server becomes a scrubbed scenario."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine import load_connector
from engine._record import record
from engine.cli import main

API_KEY = "sk_test_recordSecret123"
CARD = "4000056655665556"


class _Stripeish(BaseHTTPRequestHandler):
    requests = 0  # how many requests reached the server (all instances)

    def do_POST(self) -> None:
        type(self).requests += 1
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        body = {
            "id": "pi_rec_1",
            "object": "payment_intent",
            "status": "requires_capture",
            "amount": 1099,
            "currency": "eur",
            # A careless echo, as some processors do: it must not survive into the fixture.
            "debug": f"card {CARD} key {API_KEY}",
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Stripeish)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_record_writes_a_scrubbed_scenario(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "amount": 1099,
                "currency": "EUR",
                "capture_method": "manual",
                "payment_method": {
                    "type": "card",
                    "card": {"number": CARD, "exp_month": 12, "exp_year": 2030, "cvc": "314"},
                },
            }
        )
    )
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps({"api_key": API_KEY}))
    out = tmp_path / "recorded.yaml"
    code = main(
        [
            "record",
            "stripe",
            "authorize",
            str(request),
            "--credentials",
            str(credentials),
            "--base-url",
            server,
            "--allow-undeclared-host",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "status authorized" in capsys.readouterr().out
    text = out.read_text()
    assert CARD not in text and API_KEY not in text and "314" not in text
    scenario = yaml.safe_load(text)
    assert scenario["flow"] == "authorize"
    assert scenario["request"]["payment_method"]["card"]["number"] == "4111111111111111"
    assert scenario["request"]["idempotency_key"]  # pinned for stable snapshots
    assert scenario["response"]["status"] == 200
    assert scenario["response"]["body"]["id"] == "pi_rec_1"
    assert scenario["expect"] == {"status": "authorized", "connector_transaction_id": "pi_rec_1"}
    # The fixture is usable as it is: its request builds.
    load_connector("stripe").build_request("authorize", scenario["request"], {"api_key": API_KEY})


def _record_args(tmp_path: Path, server: str) -> list[str]:
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "amount": 1099,
                "currency": "EUR",
                "capture_method": "manual",
                "idempotency_key": "idem-rec-1",
                "payment_method": {"type": "token", "token": "pm_card_visa"},
            }
        )
    )
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps({"api_key": API_KEY}))
    return ["record", "stripe", "authorize", str(request), "--credentials", str(credentials)]


def test_record_name_and_out_folder(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*_record_args(tmp_path, server), "--base-url", server, "--allow-undeclared-host"]
    # --name names the file in the connector's scenario folder under --root ...
    root = tmp_path / "project"
    assert main([*args, "--root", str(root), "--name", "authorize_manual_recorded"]) == 0
    written = (
        root / "tests" / "connectors" / "stripe" / "scenarios" / "authorize_manual_recorded.yaml"
    )
    assert f"wrote {written}" in capsys.readouterr().out
    assert yaml.safe_load(written.read_text())["response"]["body"]["id"] == "pi_rec_1"
    # ... or in the folder --out gives; a .yaml --out is the file itself.
    folder = tmp_path / "fixtures"
    assert main([*args, "--out", str(folder), "--name", "mine"]) == 0
    assert yaml.safe_load((folder / "mine.yaml").read_text())["flow"] == "authorize"
    assert main([*args, "--out", str(folder)]) == 0
    assert (folder / "recorded.yaml").exists()  # the default name


@pytest.mark.parametrize("name", ["../escape", "sub/dir", "mine.yaml", ""])
def test_record_name_is_a_plain_file_name(server: str, tmp_path: Path, name: str) -> None:
    args = [*_record_args(tmp_path, server), "--base-url", server, "--allow-undeclared-host"]
    before = _Stripeish.requests
    with pytest.raises(SystemExit, match="--name"):
        main([*args, "--root", str(tmp_path), "--name", name])
    assert not list(tmp_path.rglob("*.yaml"))
    assert _Stripeish.requests == before  # refused before anything was sent


class _Bomb(BaseHTTPRequestHandler):
    # 64 MiB of JSON whitespace, gzip inside gzip: a few hundred KB on the wire.
    BODY = gzip.compress(gzip.compress(b" " * (64 * 1024 * 1024) + b"{}", 9), 9)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip, gzip")
        self.send_header("Content-Length", str(len(self.BODY)))
        self.end_headers()
        self.wfile.write(self.BODY)

    def log_message(self, *args: Any) -> None:
        pass


def test_record_obeys_the_response_size_limit_on_decoded_bytes(tmp_path: Path) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Bomb)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        scenario = record(
            load_connector("stripe"),
            "authorize",
            {
                "amount": 1099,
                "currency": "EUR",
                "payment_method": {
                    "type": "card",
                    "card": {"number": CARD, "exp_month": 12, "exp_year": 2030, "cvc": "314"},
                },
            },
            {"api_key": API_KEY},
            base_url=f"http://127.0.0.1:{httpd.server_address[1]}",
            allow_undeclared_host=True,
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert scenario["expect"]["status"] == "unresolved"
    assert scenario["expect"]["error.code"] == "invalid_response"
    assert "response" not in scenario and scenario.get("responses") == []

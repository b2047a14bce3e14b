"""A headless Chromium driven over the Chrome DevTools Protocol on a pipe
(`--remote-debugging-pipe`: JSON messages ending in NUL, read from fd 3 and written to fd 4).
This needs no driver binary, no debugging port and no package beyond the standard library.
Clicks and typing are real input events (`Input.*`), so the page's own handlers run.

>>> with Browser(tmp_path) as browser:
...     page = browser.new_page()
...     page.goto("http://127.0.0.1:8080/docs")
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

#: Chromium from Debian's package (`apt-get install chromium`).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI, and containers without user namespaces
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--window-size=1280,2000",
    "--remote-debugging-pipe",
)

#: Puts the pipe ends on fds 3 and 4, where Chromium expects them, then becomes Chromium. The
#: two dup() calls first take copies, so the dup2() calls cannot overwrite each other; dup()
#: marks its copies close-on-exec, hence set_inheritable (dup2 onto itself keeps the mark).
_ON_FDS_3_AND_4 = (
    "import os, sys\n"
    "a, b = os.dup(int(sys.argv[1])), os.dup(int(sys.argv[2]))\n"
    "os.dup2(a, 3)\n"
    "os.dup2(b, 4)\n"
    "os.set_inheritable(3, True)\n"
    "os.set_inheritable(4, True)\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)


class CDPError(Exception):
    """Chromium answered a command with an error, or did not answer in time."""


class Browser:
    """One Chromium process. Its profile, cache and home folder are all inside `folder`."""

    def __init__(self, folder: Path, timeout: float = 60.0) -> None:
        if not Path(CHROMIUM).is_file():
            raise FileNotFoundError(
                f"{CHROMIUM} is missing: the /docs page test needs Debian's chromium package"
            )
        self.timeout = timeout
        home = folder / "home"
        for sub in ("profile", "home/.config", "home/.cache"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.log = folder / "chromium.log"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _ON_FDS_3_AND_4,
                    str(to_child_r),
                    str(from_child_w),
                    CHROMIUM,
                    *FLAGS,
                    f"--user-data-dir={folder / 'profile'}",
                    "about:blank",
                ],
                pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={
                    **os.environ,
                    "HOME": str(home),
                    "XDG_CONFIG_HOME": str(home / ".config"),
                    "XDG_CACHE_HOME": str(home / ".cache"),
                },
            )
        os.close(to_child_r)
        os.close(from_child_w)
        self._out = os.fdopen(to_child_w, "wb", buffering=0)
        self._in = os.fdopen(from_child_r, "rb", buffering=0)
        self._next_id = 0
        self._answers: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        self._events_changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # --- the protocol ------------------------------------------------------------------------

    def _read(self) -> None:
        buffer = b""
        while chunk := self._in.read(65536):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        box = self._answers.get(message["id"])
                    if box is not None:
                        box.put(message)
                else:
                    with self._events_changed:
                        self.events.append(message)
                        self._events_changed.notify_all()
        with self._events_changed:  # Chromium is gone: wake every waiter
            self.events.append({"method": "<closed>", "params": {}})
            self._events_changed.notify_all()

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> Any:
        with self._lock:
            self._next_id += 1
            number = self._next_id
            box: queue.Queue[dict[str, Any]] = queue.Queue()
            self._answers[number] = box
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        try:
            answer = box.get(timeout=self.timeout)
        except queue.Empty:
            raise CDPError(f"{method}: no answer in {self.timeout}s; {self.tail()}") from None
        finally:
            with self._lock:
                del self._answers[number]
        if "error" in answer:
            raise CDPError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def wait_event(self, method: str, session: str | None = None, after: int = 0) -> dict[str, Any]:
        """The first event `method` of `session` from the `after`th event on (seen so far or
        still to come)."""
        deadline = time.monotonic() + self.timeout
        seen = after
        with self._events_changed:
            while True:
                for event in self.events[seen:]:
                    if event.get("method") == method and event.get("sessionId") == session:
                        return dict(event["params"])
                    if event.get("method") == "<closed>":
                        raise CDPError(f"Chromium exited waiting for {method}: {self.tail()}")
                seen = len(self.events)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CDPError(f"no {method} in {self.timeout}s")
                self._events_changed.wait(left)

    def new_page(self) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        return Page(self, session["sessionId"])

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    # --- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        with contextlib.suppress(CDPError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()
        self._reader.join(timeout=5)
        self._in.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Page:
    """One tab: evaluate script, wait for a condition, click and type like a user."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def send(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self.browser.send(method, params, self.session)

    def events(self, method: str) -> list[dict[str, Any]]:
        with self.browser._events_changed:
            return [
                e["params"]
                for e in self.browser.events
                if e.get("method") == method and e.get("sessionId") == self.session
            ]

    def goto(self, url: str) -> None:
        with self.browser._events_changed:
            mark = len(self.browser.events)
        self.send("Page.navigate", {"url": url})
        self.browser.wait_event("Page.loadEventFired", self.session, after=mark)

    def evaluate(self, expression: str) -> Any:
        answer = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in answer:
            raise CDPError(f"{expression[:80]}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait_for(self, expression: str, what: str) -> Any:
        """The value of `expression` once it is truthy (polled)."""
        deadline = time.monotonic() + self.browser.timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise CDPError(f"waited {self.browser.timeout}s for {what}")

    def wait_for_selector(self, selector: str) -> None:
        self.wait_for(f"!!document.querySelector({json.dumps(selector)})", selector)

    def text(self, selector: str) -> str:
        """The text of the first element `selector` matches, once there is one."""
        self.wait_for_selector(selector)
        value = self.evaluate(f"document.querySelector({json.dumps(selector)}).textContent")
        return str(value)

    def click(self, selector: str) -> None:
        """A real mouse click on the middle of the first element `selector` matches."""
        x, y = self.wait_for(
            f"""(() => {{
                const e = document.querySelector({json.dumps(selector)});
                if (!e) return null;
                e.scrollIntoView({{block: "center"}});
                const r = e.getBoundingClientRect();
                return r.width && r.height ? [r.x + r.width / 2, r.y + r.height / 2] : null;
            }})()""",
            f"a visible {selector}",
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    def choose(self, selector: str, value: str) -> None:
        """Pick an option of a <select>, as a user's choice would (a `change` event). A native
        select's list is a browser widget outside the page, so it is not clicked."""
        self.wait_for_selector(selector)
        chosen = self.evaluate(
            f"""(() => {{
                const select = document.querySelector({json.dumps(selector)});
                const option = [...select.options].find(o => o.value === {json.dumps(value)});
                if (!option) return false;
                select.focus();
                option.selected = true;
                select.dispatchEvent(new Event("change", {{bubbles: true}}));
                return true;
            }})()"""
        )
        if not chosen:
            raise CDPError(f"{selector} has no option {value!r}")

    def fill(self, selector: str, text: str) -> None:
        """Click into a field, select what it holds, and type `text` over it."""
        self.click(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).select()")
        self.send("Input.insertText", {"text": text})

#!/usr/bin/python3
"""Loads pages of `sluice ui` in Debian's headless chromium, driven over the DevTools protocol
on a pipe (--remote-debugging-pipe: no WebSocket library, no npm package). For each page it
fails on an uncaught exception, a console error, a failed resource load or a JavaScript dialog
(an injected alert), waits until the page's script has finished (body[data-ready]), checks the
rendered text for what must be there, runs an optional script (the look-up form) and keeps a
full-page screenshot.

usage: ui_browser.py CHROMIUM PAGES.json SCREENSHOT_DIR"""

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT = 20.0


class Chromium:
    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="sluice-ui-chromium-")
        to_r, to_w = os.pipe()      # we write, chromium reads fd 3
        from_r, from_w = os.pipe()  # chromium writes fd 4, we read

        def child_fds():
            a = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--no-first-run", "--disable-sync",
             "--disable-component-update", "--disable-extensions", "--mute-audio",
             "--user-data-dir=" + self.profile, "--remote-debugging-pipe",
             "--window-size=1280,900", "about:blank"],
            preexec_fn=child_fds, close_fds=False, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.out = to_w
        self.inp = from_r
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.out)
        os.close(self.inp)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer")
            ready, _, _ = select.select([self.inp], [], [], left)
            if ready:
                chunk = os.read(self.inp, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.out, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["method"] == method:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def pump(self, seconds):
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read_message(deadline))
        except TimeoutError:
            pass

    def evaluate(self, expression):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluating {expression!r}: {r['exceptionDetails']}")
        return r["result"].get("value")


def problems_in(events):
    found = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            found.append("uncaught exception: " +
                         d.get("exception", {}).get("description", d.get("text", "")))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            found.append("console." + p["type"] + ": " +
                         " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            found.append("log error: " + p["entry"]["text"] + " " + p["entry"].get("url", ""))
        elif m == "Page.javascriptDialogOpening":
            found.append("a JavaScript dialog opened: " + p.get("message", ""))
    return found


def check_page(chrome, page, shots):
    name, url = page["name"], page["url"]
    chrome.events.clear()
    chrome.send("Page.navigate", {"url": url})
    chrome.wait_event("Page.loadEventFired")
    deadline = time.monotonic() + TIMEOUT
    while chrome.evaluate("document.body ? document.body.getAttribute('data-ready') : null") != "1":
        if time.monotonic() > deadline:
            return [f"the page's script never finished (body[data-ready] unset)"]
        chrome.pump(0.1)
    failures = []
    if page.get("script"):
        chrome.evaluate(page["script"])
        wait_for = page.get("wait_for")
        deadline = time.monotonic() + TIMEOUT
        while wait_for and not chrome.evaluate(f"!!document.querySelector({json.dumps(wait_for)})"):
            if time.monotonic() > deadline:
                failures.append(f"{wait_for} never appeared after the page script")
                break
            chrome.pump(0.1)
    chrome.pump(0.2)  # late console messages
    js_error = chrome.evaluate("document.body.getAttribute('data-js-error')")
    if js_error:
        failures.append("window error: " + js_error)
    failures += problems_in(chrome.events)
    text = chrome.evaluate("document.body.innerText") or ""
    if len(text.strip()) < 50:
        failures.append("the page is (nearly) blank")
    for want in page.get("expect", []):
        if want not in text:
            failures.append(f"missing text {want!r}")
    for unwanted in page.get("absent", []):
        if unwanted in text:
            failures.append(f"unexpected text {unwanted!r}")
    metrics = chrome.send("Page.getLayoutMetrics")
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    shot = chrome.send("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": max(1280, size["width"]),
                 "height": min(6000, size["height"]), "scale": 1}})
    with open(os.path.join(shots, name + ".png"), "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    return failures


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    binary, pages_file, shots = sys.argv[1:]
    with open(pages_file) as f:
        pages = json.load(f)
    os.makedirs(shots, exist_ok=True)
    chrome = Chromium(binary)
    failed = 0
    try:
        targets = chrome.send("Target.getTargets", session=False)["targetInfos"]
        page_target = next(t for t in targets if t["type"] == "page")
        chrome.session = chrome.send("Target.attachToTarget", {
            "targetId": page_target["targetId"], "flatten": True}, session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            chrome.send(domain + ".enable")
        for page in pages:
            try:
                failures = check_page(chrome, page, shots)
            except Exception as e:  # noqa: BLE001 - a broken page is a failure, not a crash
                failures = [f"{type(e).__name__}: {e}"]
            status = "ok" if not failures else "FAILED"
            print(f"{status:6} {page['name']:12} {page['url']}")
            for f in failures:
                print(f"         {f}")
            failed += bool(failures)
    finally:
        chrome.close()
    print(f"{len(pages) - failed} of {len(pages)} pages passed; screenshots in {shots}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

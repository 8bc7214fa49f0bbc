"""The built book, as a reader sees it: every page in headless Chromium.

Runs on an already built site (``_build/html``, or ``$EELS_SITE_DIR``): ``scripts/run_tests.sh``
builds the book first and then runs this file with ``EELS_SITE_REQUIRED=1``. Without that
variable, a missing site or a missing Chromium skips these tests (a plain ``pytest tests`` before
any build); with it, they fail.

The site is served over HTTP on 127.0.0.1 and every page named in ``_toc.yml`` is opened through
the Chrome DevTools protocol (``websocket-client``). A page fails if it is missing, if any request
fails or answers >= 400, if it asks for anything outside the site (the book must work offline),
if an image does not decode, if JavaScript logs an error or throws, if its equations are not
typeset, or if a widget area stays empty. A screenshot of each page (and of each widget area) is
written to ``_build/screenshots/``. Every link of every page must reach its target: a relative link
a file of the site (and its anchor, if it names one), and no link may point at a placeholder
(YOUR-ORG, example.org/.com, localhost); the sources and ``_config.yml`` are checked for such
placeholders without a build.

Chromium: ``$CHROMIUM``, else ``/usr/bin/chromium`` (``scripts/setup_browser.sh`` installs it).
"""

from __future__ import annotations

import base64
import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("EELS_SITE_DIR", REPO / "_build" / "html"))
SHOTS = Path(os.environ.get("EELS_SCREENSHOT_DIR", REPO / "_build" / "screenshots"))
REQUIRED = os.environ.get("EELS_SITE_REQUIRED", "") == "1"
PAGE_TIMEOUT_S = 60.0
QUIET_S = 1.0  # no request in flight for this long = the page has settled


def toc_pages() -> list[str]:
    """Every document of _toc.yml (root, parts, chapters, sections), in reading order."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [str(Path(p).with_suffix("")) for p in pages]


PAGES = toc_pages()


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable(reason: str):
    if REQUIRED:
        pytest.fail(reason + " (EELS_SITE_REQUIRED=1)")
    pytest.skip(reason)


# ---------------------------------------------------------------------------- links
# A link to a placeholder: an unfilled repository owner, a documentation example domain, or a
# server on this machine (the book is read from a web server or from disk, never from localhost).
PLACEHOLDER = re.compile(
    r"YOUR[-_]ORG|(?:^|[/.@])example\.(?:org|com|net)\b|://(?:localhost|127\.0\.0\.1|0\.0\.0\.0)(?:[:/]|$)",
    re.IGNORECASE,
)
URL_IN_TEXT = re.compile(r"https?://[^\s)\"'<>`\]]+")
LINK_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src", "iframe": "src", "source": "src"}


class _Links(html.parser.HTMLParser):
    """The link targets and the element ids of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        target = attrs.get(LINK_ATTRIBUTES.get(tag, ""))
        if target:
            self.links.append(target.strip())


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def find_bad_links(site: Path, pages: list[str]) -> list[str]:
    """Problems with the links of ``pages`` (paths under ``site`` without ``.html``): links to a
    placeholder, relative links to a missing file, and anchors missing from their page."""
    problems: list[str] = []
    parsed: dict[Path, _Links] = {}

    def page(path: Path) -> _Links:
        if path not in parsed:
            parsed[path] = _parse(path)
        return parsed[path]

    for name in pages:
        source = site / f"{name}.html"
        if not source.is_file():
            problems.append(f"{name}.html: page missing")
            continue
        for link in page(source).links:
            if PLACEHOLDER.search(link):
                problems.append(f"{name}.html: link to a placeholder: {link}")
                continue
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("data:", "mailto:", "javascript:")):
                continue  # external (the browser test refuses requests outside the site)
            target = source if not parts.path else (source.parent / unquote(parts.path)).resolve()
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{name}.html: link to a missing file: {link}")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in page(target).ids:
                problems.append(f"{name}.html: link to a missing anchor: {link}")
    return problems


def placeholder_links_in_sources(repo: Path = REPO) -> list[str]:
    """Placeholder links written in the book's sources or set in ``_config.yml``."""
    problems = []
    files = [*sorted((repo / "book").glob("*.md")), *sorted((repo / "notebooks").glob("*.py")), repo / "_toc.yml"]
    for path in files:
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for found in [*URL_IN_TEXT.findall(line), *re.findall(r"YOUR[-_]ORG", line, re.IGNORECASE)]:
                if PLACEHOLDER.search(found):
                    problems.append(f"{path.relative_to(repo)}:{k}: {found}")

    def walk(value, where):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}" if where else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]")
        elif isinstance(value, str) and PLACEHOLDER.search(value):
            problems.append(f"_config.yml: {where} = {value}")

    walk(yaml.safe_load((repo / "_config.yml").read_text()), "")
    return problems


def test_no_placeholder_links_in_sources_or_config():
    problems = placeholder_links_in_sources()
    assert not problems, "placeholder links (set a real address or none):\n  " + "\n  ".join(problems)


def test_launch_buttons_need_the_repository_setting():
    """One setting, repository.url: empty means no launch buttons, set means Binder buttons."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("launch_buttons", REPO / "book" / "_ext" / "launch_buttons.py")
    launch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launch)
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert "url" in config["repository"], "_config.yml: repository.url must be given ('' for none)"
    assert "launch_buttons" in config["sphinx"]["local_extensions"]
    buttons = config["launch_buttons"]
    assert launch.launch_settings({"repository_url": "", "launch_buttons": buttons}) == {}
    assert launch.launch_settings({"launch_buttons": buttons}) == {}
    assert launch.launch_settings({"repository_url": "https://github.com/o/r", "launch_buttons": buttons}) == buttons


def test_link_check_finds_placeholders_missing_files_and_anchors(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.html").write_text(
        '<a href="sub/b.html#here">ok</a><a href="#top">ok</a><h1 id="top">A</h1>'
        '<a href="https://doi.org/10.1/x">external</a><img src="data:image/png;base64,AA">'
        '<a href="https://github.com/YOUR-ORG/eels-edge-book">bad</a><a href="http://localhost:8000/x">bad</a>'
        '<a href="https://hub.example.org/">bad</a><a href="missing.html">bad</a><a href="sub/b.html#nowhere">bad</a>'
    )
    (tmp_path / "sub" / "b.html").write_text('<section id="here"><a href="../a.html">back</a></section>')
    problems = find_bad_links(tmp_path, ["a", "sub/b", "gone"])
    assert len(problems) == 6, problems
    assert sum("placeholder" in p for p in problems) == 3
    assert any("missing file: missing.html" in p for p in problems)
    assert any("missing anchor: sub/b.html#nowhere" in p for p in problems)
    assert any("gone.html: page missing" in p for p in problems)


def test_site_links_reach_their_targets():
    if not (SITE / "index.html").is_file():
        unavailable(f"no built site at {SITE}")
    problems = find_bad_links(SITE, PAGES)
    assert not problems, f"{len(problems)} bad links:\n  " + "\n  ".join(problems[:40])


# ---------------------------------------------------------------------------- HTTP server
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no access log on stderr
        pass


@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").is_file():
        unavailable(f"no built site at {SITE}; run scripts/build_book.sh (or scripts/run_tests.sh)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------------------- DevTools client
class DevTools:
    """Minimal Chrome DevTools protocol client over one browser websocket (flat sessions)."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=PAGE_TIMEOUT_S, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = PAGE_TIMEOUT_S) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply is None:
                raise TimeoutError(f"no reply to {method} in {timeout:.0f} s")
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _receive(self, deadline: float) -> dict | None:
        import websocket

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        self.ws.settimeout(remaining)
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            return None

    def pump(self, seconds: float) -> None:
        """Collect events for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (msg := self._receive(deadline)) is not None:
            self.events.append(msg)

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    if chromium is None:
        unavailable("no Chromium; run scripts/setup_browser.sh or set CHROMIUM")
    profile = tempfile.mkdtemp(prefix="eels-chromium-")
    cmd = [
        chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-quic", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}", "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1", "--window-size=1280,1600", "about:blank",
    ]
    log_path = Path(profile) / "chromium.log"  # a file, not a pipe nobody reads (that would block it)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    port_file = Path(profile) / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = log_path.read_text(errors="replace")[-2000:]
            shutil.rmtree(profile, ignore_errors=True)
            pytest.fail(f"Chromium did not start ({' '.join(cmd[:2])} ...):\n{err}")
        time.sleep(0.1)
    port, path = port_file.read_text().splitlines()[:2]
    client = DevTools(f"ws://127.0.0.1:{port}{path}")
    try:
        yield client
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


# ---------------------------------------------------------------------------- one page
# Run in the page once it has settled: what a reader would see (or miss).
PAGE_REPORT_JS = r"""
(() => {
  const broken = Array.from(document.images)
    .filter(i => i.getAttribute('src') && (!i.complete || i.naturalWidth === 0))
    .map(i => i.currentSrc || i.src);
  const views = Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
  const widgets = views.map(v => {
    const area = v.previousElementSibling;
    const ok = area && area.classList.contains('widget-subarea');
    const box = ok ? area.getBoundingClientRect() : {width: 0, height: 0};
    return {
      rendered: !!ok, width: box.width, height: box.height,
      n_controls: ok ? area.querySelectorAll('.widget-slider, .widget-select-multiple, .widget-checkbox').length : 0,
      n_images: ok ? Array.from(area.querySelectorAll('img')).filter(i => i.complete && i.naturalWidth > 0).length : 0,
    };
  });
  const math_spans = document.querySelectorAll('.math, span.math, div.math').length;
  const typeset = document.querySelectorAll('mjx-container').length;
  return {title: document.title, broken_images: broken, widgets: widgets,
          math: math_spans, typeset: typeset,
          height: document.documentElement.scrollHeight,
          text: (document.querySelector('main') || document.body).innerText.length};
})()
"""

WAIT_FOR_PAGE_JS = r"""
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const t0 = performance.now();
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    try { await window.MathJax.startup.promise; } catch (e) {}
  }
  const views = () => document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const areas = () => document.querySelectorAll('.widget-subarea');
  while (performance.now() - t0 < %d) {
    const imgs = Array.from(document.querySelectorAll('.widget-subarea img'));
    if (areas().length >= views() && imgs.every(i => i.complete)) return true;
    await sleep(200);
  }
  return false;
})()
"""


def open_page(dt: DevTools, url: str) -> tuple[str, str, dict, list[str]]:
    """Load ``url`` in a fresh tab; return (target id, session, report, problems)."""
    target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        dt.send(f"{domain}.enable", session=session)
    dt.send("Network.setCacheDisabled", {"cacheDisabled": True}, session=session)
    dt.send("Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 1600, "deviceScaleFactor": 1, "mobile": False}, session=session)
    dt.events.clear()
    dt.send("Page.navigate", {"url": url}, session=session)

    origin = "/".join(url.split("/", 3)[:3])  # http://127.0.0.1:PORT
    inflight: dict[str, str] = {}
    loaded = False
    last_activity = time.monotonic()
    deadline = time.monotonic() + PAGE_TIMEOUT_S
    seen = 0
    problems: list[str] = []

    def scan() -> None:
        nonlocal seen, loaded, last_activity
        for ev in dt.events[seen:]:
            seen += 1
            if ev.get("sessionId") != session:
                continue
            method, p = ev.get("method"), ev.get("params", {})
            if method == "Page.loadEventFired":
                loaded = True
            elif method == "Network.requestWillBeSent":
                req_url = p["request"]["url"]
                inflight[p["requestId"]] = req_url
                last_activity = time.monotonic()
                if not req_url.startswith((origin + "/", "data:", "blob:", "about:")):
                    problems.append(f"request outside the site (offline it fails): {req_url}")
            elif method in ("Network.loadingFinished", "Network.loadingFailed"):
                req_url = inflight.pop(p["requestId"], "?")
                last_activity = time.monotonic()
                if method == "Network.loadingFailed" and not p.get("canceled"):
                    problems.append(f"failed to load {req_url}: {p.get('errorText')}")
            elif method == "Network.responseReceived":
                status = p["response"].get("status", 0)
                if status >= 400:
                    problems.append(f"HTTP {status} for {p['response']['url']}")
            elif method == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                desc = d.get("exception", {}).get("description") or d.get("text")
                problems.append(f"JavaScript exception: {desc} ({d.get('url', '')}:{d.get('lineNumber')})")
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                problems.append(f"console.{p['type']}: {args[:500]}")
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                e = p["entry"]
                problems.append(f"browser log error ({e.get('source')}): {e.get('text')} {e.get('url', '')}")

    while time.monotonic() < deadline:
        dt.pump(0.2)
        scan()
        if loaded and not inflight and time.monotonic() - last_activity > QUIET_S:
            break
    else:
        problems.append(f"page did not settle in {PAGE_TIMEOUT_S:.0f} s (load event: {loaded}; "
                        f"in flight: {sorted(inflight.values())[:5]})")
    # widgets render and MathJax typesets asynchronously after the load event
    dt.send("Runtime.evaluate", {"expression": WAIT_FOR_PAGE_JS % (PAGE_TIMEOUT_S * 1000 / 2),
                                 "awaitPromise": True}, session=session)
    dt.pump(QUIET_S)
    scan()
    report = dt.send("Runtime.evaluate", {"expression": PAGE_REPORT_JS, "returnByValue": True},
                     session=session)["result"]["value"]
    return target, session, report, problems


def screenshot(dt: DevTools, session: str, path: Path) -> None:
    """The viewport (1280 x 1600) as PNG."""
    data = dt.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(data))


def scroll_to_widget(dt: DevTools, session: str, k: int) -> bool:
    """Scroll widget area ``k`` to the top of the viewport; False if there is none."""
    js = f"""(() => {{ const a = document.querySelectorAll('.widget-subarea')[{k}];
        if (!a) return false; a.scrollIntoView({{block: 'start'}}); return true; }})()"""
    found = dt.send("Runtime.evaluate", {"expression": js, "returnByValue": True}, session=session)["result"]["value"]
    dt.pump(0.3)  # let it repaint
    return bool(found)


# ---------------------------------------------------------------------------- the tests
def test_toc_pages_exist():
    """Every page of _toc.yml was built (a chapter whose notebook failed would be missing)."""
    if not (SITE / "index.html").is_file():
        unavailable(f"no built site at {SITE}")
    missing = [p for p in PAGES if not (SITE / f"{p}.html").is_file()]
    assert not missing, f"pages in _toc.yml missing from {SITE}: {missing}"


def test_vendored_javascript_matches_checksums():
    """The committed vendor/ files are the ones scripts/vendor_js.sh took from npm."""
    import hashlib

    lines = (REPO / "vendor" / "SHA256SUMS").read_text().splitlines()
    assert lines, "vendor/SHA256SUMS is empty"
    bad = []
    for line in lines:
        digest, name = line.split(maxsplit=1)
        path = REPO / "vendor" / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            bad.append(name)
    assert not bad, f"vendor/ files missing or changed (re-run scripts/vendor_js.sh --check): {bad}"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders(page, site_url, browser):
    html = SITE / f"{page}.html"
    assert html.is_file(), f"{page}.html was not built"
    source = html.read_text(encoding="utf-8")
    target, session, report, problems = open_page(browser, f"{site_url}/{page}.html")
    try:
        slug = page.replace("/", "__")
        screenshot(browser, session, SHOTS / f"{slug}.png")
        for k in range(len(report["widgets"])):
            if scroll_to_widget(browser, session, k):
                screenshot(browser, session, SHOTS / f"{slug}__widget{k}.png")
    finally:
        browser.send("Target.closeTarget", {"targetId": target})

    problems += [f"image did not load: {src}" for src in report["broken_images"]]
    if report["text"] < 200:
        problems.append(f"page has almost no text ({report['text']} characters)")
    if report["math"] and not report["typeset"]:
        problems.append(f"{report['math']} equations but none typeset by MathJax")
    if "application/vnd.jupyter.widget-view+json" in source:
        if not report["widgets"]:
            problems.append("page holds widget views but the browser found none")
        for k, w in enumerate(report["widgets"]):
            if not w["rendered"] or w["width"] < 50 or w["height"] < 50:
                problems.append(f"widget area {k} is empty ({w})")
        if page.endswith("12_forward_model_explorer"):
            w = max(report["widgets"], key=lambda w: w["n_controls"], default={"n_controls": 0, "n_images": 0})
            if w["n_controls"] < 5 or w["n_images"] < 1:
                problems.append(f"explorer widget lacks its controls or its figure ({w})")
    assert not problems, f"{page}: " + "\n  ".join([""] + sorted(set(problems)))

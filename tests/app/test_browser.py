"""A real browser over the running dashboard: every page opens, a model is searched, its family opened,
a SQL query run. Screenshots go to ``<data dir>/screenshots/`` (or ``$HUBGENOME_SCREENSHOT_DIR``).

Needs Debian's ``chromium`` at /usr/bin/chromium (``apt-get install chromium``; ``.ci/run`` installs
it); skipped with a message otherwise. Playwright drives it; no browser is ever downloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hubgenome.app import launch
from tests.support.safety import LLAMA

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PAGE_TITLES = {
    "": "Ecosystem overview",
    "model": "Model lookup",
    "family": "Family explorer",
    "drift": "Drift: parent → child",
    "similarity": "Genetic similarity",
    "licences": "Licence compliance",
    "safety": "Safety",
    "sql": "SQL console",
}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _dashboard(data_dir: Path) -> Iterator[str]:
    """The dashboard over ``data_dir``'s warehouse, served by its own process; yields its address."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (`apt-get install -y chromium`) to run it")
    port = _free_port()
    env = launch.environment(data_dir)
    process = subprocess.Popen(launch.command(port), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                pytest.fail(f"the dashboard did not start on {base}:\n{output[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def server(demo_app) -> Iterator[str]:
    with _dashboard(demo_app.data_dir) as base:
        yield base


@pytest.fixture(scope="module")
def safety_server(safety_slice) -> Iterator[str]:
    """The dashboard over the hub-2024-07 slice around Llama-2-7b-chat-hf (bundled JailbreakBench rows)."""
    with _dashboard(safety_slice[0]) as base:
        yield base


@pytest.fixture(scope="module")
def shots(demo_app) -> Path:
    folder = Path(os.environ.get("HUBGENOME_SCREENSHOT_DIR") or demo_app.data_dir / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser_page(server):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(45_000)
        yield page
        browser.close()


def _wait_idle(page) -> None:
    """Wait until Streamlit has finished running the script (no 'Running...' status widget)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=45_000, polling=200
    )
    page.wait_for_timeout(300)


def test_every_page_opens(server, browser_page, shots):
    page = browser_page
    for path, title in PAGE_TITLES.items():
        page.goto(f"{server}/{path}")
        page.get_by_role("heading", name=title).first.wait_for()
        _wait_idle(page)
        assert page.locator("[data-testid='stException']").count() == 0, path
        page.screenshot(path=str(shots / f"page-{path or 'overview'}.png"), full_page=True)
    page.goto(f"{server}/")
    page.get_by_text("Synthetic demo data").first.wait_for()


def test_the_toolbar_has_no_deploy_button(server, browser_page):
    """Opened on localhost, Streamlit's default toolbar offers Deploy; the dashboard's command hides it."""
    page = browser_page
    page.goto(f"{server}/")
    page.get_by_role("heading", name=PAGE_TITLES[""]).first.wait_for()
    _wait_idle(page)
    page.get_by_test_id("stMainMenu").wait_for()  # the toolbar is drawn, with the viewer's menu
    assert page.get_by_test_id("stAppDeployButton").count() == 0


def test_search_a_model_and_open_its_family(server, browser_page, shots, demo_app):
    page = browser_page
    sizes = demo_app.manifest.family_sizes
    root = max(sizes, key=lambda r: (sizes[r], r))
    page.goto(f"{server}/model")
    page.get_by_role("heading", name="Model lookup").wait_for()
    box = page.get_by_label("Model id", exact=True).and_(page.locator("input"))
    box.fill(root[: max(4, len(root) - 3)])
    box.press("Enter")
    page.get_by_role("heading", name=root).wait_for()
    _wait_idle(page)
    assert page.get_by_text("Family root").count() >= 1
    page.screenshot(path=str(shots / "search-model.png"), full_page=True)
    page.get_by_text(f"Open the family of {root} in the explorer").click()
    page.get_by_role("heading", name="Family explorer").wait_for()
    page.get_by_role("heading", name=root).wait_for()
    page.locator("[data-testid='stGraphVizChart'] svg").first.wait_for()
    _wait_idle(page)
    assert f"{sizes[root]:,}" in page.locator("[data-testid='stMetric']").first.inner_text()
    page.screenshot(path=str(shots / "family-page.png"), full_page=True)
    tree = page.locator("[data-testid='stGraphVizChart']").first
    tree.scroll_into_view_if_needed()
    tree.screenshot(path=str(shots / "family-tree.png"))


def test_run_a_sql_query(server, browser_page, shots, demo_app):
    page = browser_page
    page.goto(f"{server}/sql")
    page.get_by_role("heading", name="SQL console").wait_for()
    _wait_idle(page)
    editor = page.locator("textarea").first
    editor.fill("select count(*) as n_models from dim_models")
    editor.press("Control+Enter")
    _wait_idle(page)
    page.get_by_role("button", name="Run").click()
    page.get_by_text("1 rows in").wait_for()
    _wait_idle(page)
    page.screenshot(path=str(shots / "sql-query.png"), full_page=True)
    editor.fill("drop table dim_models")
    editor.press("Control+Enter")
    _wait_idle(page)
    page.get_by_role("button", name="Run").click()
    page.get_by_text("DROP statements are not allowed").wait_for()
    page.screenshot(path=str(shots / "sql-refused.png"), full_page=True)


def test_family_safety_view(safety_server, browser_page, shots, safety_slice):
    """Safety page → Llama-2-7b-chat-hf's evaluations and its most downloaded un-evaluated descendants; a
    descendant's lookup names what it inherits; the family explorer shows the evaluated member."""
    page = browser_page
    _, lineage = safety_slice
    page.goto(f"{safety_server}/")  # through the router first, as a user arrives
    page.get_by_role("heading", name=PAGE_TITLES[""]).first.wait_for()
    _wait_idle(page)
    page.goto(f"{safety_server}/safety")
    page.get_by_role(
        "heading", name="Family safety: evaluated models and where an evaluation is most needed"
    ).wait_for()
    _wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_text("Where an evaluation is most needed").first.wait_for()
    page.get_by_text("bundled reference (JailbreakBench 2024)").first.wait_for()
    page.get_by_text("Where an evaluation is most needed").first.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "safety-family-view.png"), full_page=True)

    child = max(lineage.children[LLAMA], key=lambda m: (lineage.downloads(m), m))
    page.goto(f"{safety_server}/model?model={child}")
    page.get_by_role("heading", name=child).wait_for()
    _wait_idle(page)
    page.get_by_text(f"{child} inherits from {LLAMA} (ASR").wait_for()
    assert page.get_by_text("Page not found").count() == 0
    page.get_by_role("heading", name="Safety evidence").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "safety-model-lookup.png"), full_page=True)

    page.goto(f"{safety_server}/family?family={LLAMA}")
    page.get_by_role("heading", name="Safety evidence").wait_for()
    _wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stMetric']").filter(has_text="Evaluated members").inner_text().endswith("1")
    page.screenshot(path=str(shots / "safety-family-explorer.png"), full_page=True)

"""The built book in a real browser: headless Chromium (Debian's `chromium` + `chromium-driver`, driven
by selenium), served from a local HTTP server with every other host unresolvable (the network is off).

For every chapter: no console error; every plotly figure drew (its SVG holds trace paths, or a
heatmap's image, with data points); every slider moved changes the plotted data. Screenshots go to
artifacts/browser/ (not committed).
"""

import functools
import http.server
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from selenium import webdriver

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts" / "browser"
CHAPTERS = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))

@pytest.fixture(scope="module")
def server(built):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built["html"]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, ("the browser test needs Debian's chromium and chromium-driver "
                                 "(apt-get install chromium chromium-driver); scripts/test.sh installs them")
    opts = Options()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1800",
                # the network is off: no host but the local server resolves
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(driver), options=opts)
    yield d
    d.quit()


STATE = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
  id: gd.id,
  traces: gd.querySelectorAll('.scatterlayer .trace, .barlayer .trace, .heatmaplayer .hm').length,
  paths: gd.querySelectorAll('.scatterlayer .trace path, .barlayer .trace path, .heatmaplayer .hm image').length,
  points: (gd.data || []).reduce((n, t) => n + ((t.z || t.y || []).flat().filter(v => v !== null).length), 0),
  sliders: ((gd.layout || {}).sliders || []).length,
  data: JSON.stringify((gd.data || []).map(t => [t.y, t.visible])),
}));
"""


def _state(browser):
    return browser.execute_script(STATE)


def _errors(browser):
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_draws_every_figure_and_its_sliders_move_the_data(browser, server, chapter):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(f"{server}/chapters/{chapter}.html")
    deadline = time.time() + 30
    while time.time() < deadline:
        figs = _state(browser)
        if figs and all(f["paths"] for f in figs):
            break
        time.sleep(0.5)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"{chapter}.png"))
    assert figs, f"{chapter}: no plotly figure on the page"
    for f in figs:
        assert f["traces"] > 0 and f["paths"] > 0 and f["points"] > 0, (chapter, f["id"], f)
    moved = 0
    for f in figs:
        if not f["sliders"]:
            continue
        gd = browser.find_element(By.ID, f["id"])
        rail = gd.find_element(By.CSS_SELECTOR, ".slider-rail-touch-rect")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", gd)
        before = f["data"]
        w = rail.size["width"]
        ActionChains(browser).move_to_element_with_offset(rail, int(w / 2) - 3, 0).click().perform()  # last step
        time.sleep(0.5)
        after = next(s for s in _state(browser) if s["id"] == f["id"])["data"]
        assert after != before, f"{chapter}: moving the slider of figure {f['id']} did not change its data"
        moved += 1
    assert moved >= 1, f"{chapter}: no slider on the page"
    browser.save_screenshot(str(ARTIFACTS / f"{chapter}-after-sliders.png"))
    errors = _errors(browser)
    assert not errors, json.dumps(errors, indent=1)[:3000]

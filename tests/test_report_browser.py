"""The report page in a real headless browser (Debian's chromium with chromium-driver, through
selenium): ``index.html`` copied alone to another folder renders, every image loads, and nothing
scrolls sideways at 1,280 px. A screenshot of the whole page is kept in the test's tmp folder.

Skipped, with the reason, when selenium, chromium or chromedriver is not installed
(``apt-get install chromium chromium-driver``; ``.ci/run`` installs them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from allocopt.report import PAGE_FIGURES, write_report

WIDTH = 1280
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _browser() -> tuple[str, str]:
    """Paths of a chromium binary and its driver, or skip the test saying what is missing."""
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[dev]')")
    binary = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.skip(
            "no headless browser: install chromium and chromium-driver "
            "(apt-get install chromium chromium-driver)"
        )
    return binary, driver


@pytest.fixture(scope="module")
def page(baseline_result, tmp_path_factory) -> Path:
    """The baseline's report page, copied alone into an empty folder (as sent to a colleague)."""
    report = write_report(baseline_result, tmp_path_factory.mktemp("report"))
    alone = tmp_path_factory.mktemp("alone") / "index.html"
    shutil.copyfile(report, alone)
    return alone


@pytest.fixture(scope="module")
def browser():
    """A headless chromium 1,280 px wide, closed after the module."""
    binary, driver_path = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={WIDTH},1000")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    yield driver
    driver.quit()


def test_the_page_alone_renders_every_image_without_sideways_scroll(browser, page, tmp_path):
    browser.get(page.as_uri())
    assert browser.title == "allocopt report: magma_baseline"
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]);"
    )
    assert sorted(alt for alt, _, _ in images) == sorted(PAGE_FIGURES)
    assert all(complete and width > 0 for _, complete, width in images), images
    scroll, client = browser.execute_script(
        "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];"
    )
    assert client == WIDTH
    assert scroll <= client, f"the page scrolls sideways: {scroll} px wide in {client} px"
    height = browser.execute_script("return document.documentElement.scrollHeight;")
    browser.set_window_size(WIDTH, height)
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    print(f"screenshot of the report page: {shot}")
    assert shot.stat().st_size > 10_000

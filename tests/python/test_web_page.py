"""The web page of `vibevoice serve` (tools/server/web/) in headless Chromium, driven by Selenium against a
real server with the tiny model (one stream): Speak and live typing stream the same audio as the CLI, the
words being spoken are highlighted, server errors and a busy server are shown. Screenshots go to
build/test-artifacts/."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import missing
from cli_helpers import synth
from server_helpers import running_server
from websockets.sync.client import connect

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # reported by the browser fixture
    webdriver = None

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "test-artifacts"
VOICE = "synthetic"
TEXT = "Hello from the web page at the café. Every word is highlighted."
LIVE_PIECES = ["Typed live, ", "piece by ", "piece, then Enter."]
TIMEOUT = 120


def find_exe(env: str, default: str) -> Path | None:
    """$env if set (exactly that), else the Debian path, else the name on PATH."""
    if env in os.environ:
        path = Path(os.environ[env])
        return path if path.is_file() else None
    if Path(default).is_file():
        return Path(default)
    found = shutil.which(Path(default).name)
    return Path(found) if found else None



@pytest.fixture(scope="module")
def browser():
    if webdriver is None:
        missing("selenium is not installed (scripts/setup.sh installs python/requirements.txt)")
    chromium = find_exe("VV_CHROMIUM", "/usr/bin/chromium")
    chromedriver = find_exe("VV_CHROMEDRIVER", "/usr/bin/chromedriver")
    for exe, pkg in ((chromium, "chromium"), (chromedriver, "chromium-driver")):
        if exe is None:
            missing(f"{pkg} is not installed (the Debian package {pkg}; scripts/setup.sh installs it)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(chromium)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--autoplay-policy=no-user-gesture-required", "--window-size=1000,1100"):
        opts.add_argument(arg)
    # An explicit driver path: Selenium Manager (which would go to the network) never runs.
    service = Service(executable_path=str(chromedriver))
    driver = webdriver.Chrome(options=opts, service=service)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def server(vibevoice_bin, tiny_model):
    with running_server(vibevoice_bin, tiny_model, "--max-streams", "1") as s:
        yield s


def cli_samples(exe, model, text: str, seed: int) -> int:
    res = synth(exe, model, "--voice", VOICE, "--text", text, "--seed", str(seed), "--raw", "-")
    assert res.returncode == 0, res.stderr.decode()
    assert len(res.stdout) > 0
    return len(res.stdout) // 2  # pcm16 mono


def wait_js(driver, expr: str, timeout: float = TIMEOUT):
    """Wait until the JavaScript expression is truthy; returns its value."""
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(f"return {expr}"))


def open_page(driver, url: str, seed: int, **fields: str):
    """Load the page, wait for the voice list, pick the voice, fill seed / cfg / steps."""
    driver.get(url + "/")
    wait_js(driver, "document.getElementById('voice').options.length > 0 && "
                    "!document.getElementById('voice').disabled", timeout=30)
    voices = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "voice")).options]
    assert VOICE in voices
    Select(driver.find_element(By.ID, "voice")).select_by_value(VOICE)
    for name, value in {"seed": str(seed), **fields}.items():
        driver.execute_script("document.getElementById(arguments[0]).value = arguments[1]", name, value)
    driver.execute_script("document.getElementById('text').value = ''")


def state(driver) -> dict:
    return driver.execute_script("return window.vvState")


def wait_done(driver) -> dict:
    wait_js(driver, "window.vvState.done || window.vvState.error !== null")
    st = state(driver)
    assert st["error"] is None, f"the page shows an error: {st['error']}"
    assert st["done"] and st["utterances"] == 1
    # the highlight follows playback: the first chunk starts playing at once
    wait_js(driver, "window.vvState.highlightEnd > 0", timeout=15)
    return state(driver)


def screenshot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / name))


def assert_finished(driver, st: dict, text: str, expected_samples: int) -> None:
    assert st["samples"] == expected_samples
    assert st["stopReason"] in ("eos", "max_length", "max_frames")
    assert st["alignments"] >= 1
    assert 0 < st["highlightEnd"] <= len(text)
    assert st["firstAudioMs"] is not None and st["firstAudioMs"] >= 0 and st["rtf"] > 0
    assert driver.find_element(By.ID, "spoken").text == text
    assert driver.find_element(By.ID, "first_audio_ms").text not in ("", "–")
    assert driver.find_element(By.ID, "rtf").text not in ("", "–")
    download = driver.find_element(By.ID, "download")
    assert download.is_displayed()
    # the WAV of the download link: 44-byte header + the received pcm16 samples
    size = driver.execute_async_script(
        "const done = arguments[0];"
        "fetch(document.getElementById('download').href).then(r => r.arrayBuffer())"
        ".then(b => done(b.byteLength), e => done(String(e)));")
    assert size == 44 + 2 * expected_samples


def test_speak_streams_the_cli_audio_and_highlights(browser, server, vibevoice_bin, tiny_model):
    seed = 7
    expected = cli_samples(vibevoice_bin, tiny_model, TEXT, seed)
    open_page(browser, server.url, seed)
    browser.execute_script("document.getElementById('text').value = arguments[0]", TEXT)
    browser.find_element(By.ID, "speak").click()
    st = wait_done(browser)
    screenshot(browser, "web_speak.png")
    assert_finished(browser, st, TEXT, expected)


def test_live_typing_streams_the_cli_audio(browser, server, vibevoice_bin, tiny_model):
    # A seed whose (random) end-of-speech head lets the tiny model read the whole text: with another, the
    # utterance can end (EOS) while the text is still being typed, and the rest starts a second one.
    seed = 5
    text = "".join(LIVE_PIECES)
    expected = cli_samples(vibevoice_bin, tiny_model, text, seed)
    open_page(browser, server.url, seed)
    browser.find_element(By.ID, "live").click()
    box = browser.find_element(By.ID, "text")
    for piece in LIVE_PIECES:
        box.send_keys(piece)
        time.sleep(0.3)
    box.send_keys(Keys.ENTER)
    st = wait_done(browser)
    screenshot(browser, "web_live.png")
    assert box.get_attribute("value") == text  # Enter ended the utterance, it inserted no newline
    assert_finished(browser, st, text, expected)
    wait_js(browser, f"window.vvState.highlightEnd === {len(text)}", timeout=30)  # the last words, once played


def test_server_error_is_displayed(browser, server):
    open_page(browser, server.url, 0, steps="99")  # the server allows 1..50
    browser.execute_script("document.getElementById('text').value = arguments[0]", TEXT)
    browser.find_element(By.ID, "speak").click()
    err = wait_js(browser, "window.vvState.error", timeout=30)
    assert "invalid_config" in err
    shown = browser.find_element(By.ID, "error")
    assert shown.is_displayed() and "invalid_config" in shown.text
    screenshot(browser, "web_error.png")


def test_busy_server_is_displayed(browser, server):
    """The only stream is held by another client: the page's utterance gets close 1013 "Service busy"."""
    with connect(server.url.replace("http://", "ws://") + "/v1/audio/stream", open_timeout=10) as other:
        other.send(json.dumps({"type": "input.text", "text": "I hold the only stream"}))  # no input.done
        assert json.loads(other.recv(timeout=30))["type"] == "audio.start"
        open_page(browser, server.url, 0)
        browser.execute_script("document.getElementById('text').value = arguments[0]", TEXT)
        browser.find_element(By.ID, "speak").click()
        err = wait_js(browser, "window.vvState.error", timeout=30)
        other.send(json.dumps({"type": "cancel"}))
    assert "1013" in err and "Service busy" in err
    assert "Service busy" in browser.find_element(By.ID, "error").text
    assert not browser.find_element(By.ID, "speak").get_attribute("disabled")  # ready for another try
    screenshot(browser, "web_busy.png")


def test_stop_then_the_next_typed_text_is_a_new_utterance(browser, server, vibevoice_bin, tiny_model):
    """Live typing: Stop cancels the utterance waiting for more text; what is typed next is a new one."""
    seed = 5
    second = " Then this sentence, after the stop."  # typed after the stop: all of it is the new utterance
    expected = cli_samples(vibevoice_bin, tiny_model, second, seed)
    open_page(browser, server.url, seed)
    browser.find_element(By.ID, "live").click()
    box = browser.find_element(By.ID, "text")
    box.send_keys("Hold on")  # too little text to go on: the server waits for more
    wait_js(browser, "document.getElementById('status').textContent.startsWith('Waiting for text')", timeout=30)
    browser.find_element(By.ID, "stop").click()
    wait_js(browser, "window.vvState.done", timeout=30)
    assert state(browser)["stopReason"] == "cancelled"
    box.send_keys(second, Keys.ENTER)
    wait_js(browser, "window.vvState.utterances === 2 || window.vvState.error !== null")
    st = state(browser)
    assert st["error"] is None and st["done"] and st["stopReason"] == "eos"
    assert st["samples"] == expected
    assert browser.find_element(By.ID, "spoken").text == second

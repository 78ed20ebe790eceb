"""The web page of `superres serve`, driven in real headless Chromium.

Starts the real binary on a free loopback port, uploads butterfly.png (Set5) through the page, waits for the
result, checks its pixel size, the before/after divider from the keyboard, zoom, the download, a refused
upload, cancelling a running job, and the API-key form of a server with keys; saves screenshots. Run through
scripts/browser-test.

Environment: SUPERRES_BIN (the binary), SUPERRES_SHARED (the shared folder; default ../shared beside the
checkout), BROWSER_SCREENSHOT (default .build/browser-test/screenshot.png).
"""

import base64
import json
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("SUPERRES_SHARED") or ROOT.parent / "shared")
MODEL = SHARED / "models/opencv/FSRCNN_x3.pb"
PHOTO = SHARED / "datasets/Set5/butterfly.png"
LARGE_PHOTO = SHARED / "datasets/Set5/baby.png"
SCREENSHOT = pathlib.Path(os.environ.get("BROWSER_SCREENSHOT") or ROOT / ".build/browser-test/screenshot.png")


def png_size(path):
    """Width and height from a PNG's IHDR chunk."""
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_server(*extra):
    """Starts `superres serve` on a free port with `extra` arguments; yields its URL, stops it with SIGTERM."""
    if not MODEL.exists() or not PHOTO.exists():
        pytest.fail(f"the shared folder is missing ({SHARED}): set SUPERRES_SHARED")
    binary = os.environ.get("SUPERRES_BIN") or str(ROOT / ".build/debug/superres")
    data = tempfile.mkdtemp(prefix="superres-browser-")
    port = free_port()
    log = open(pathlib.Path(data) / "serve.log", "w+")
    process = subprocess.Popen(
        # Small tiles: many progress events, and a running job can be cancelled between them.
        [binary, "serve", "--model", str(MODEL), "--port", str(port), "--data-dir", data + "/data", "--tile", "32",
         *[argument.replace("{data}", data) for argument in extra]],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.time() > deadline:
            log.seek(0)
            pytest.fail(f"superres serve did not become ready:\n{log.read()}")
        time.sleep(0.2)
    yield base
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=60)
    log.seek(0)
    output = log.read()
    log.close()
    shutil.rmtree(data, ignore_errors=True)
    assert status == 0, f"serve exited with {status} after SIGTERM:\n{output}"


@pytest.fixture(scope="module")
def server():
    yield from run_server()


API_KEY = "browser-test-key-0123456789abcdefGHIJ+/="


@pytest.fixture(scope="module")
def keyed_server():
    keys = tempfile.NamedTemporaryFile("w", suffix=".keys", delete=False)
    keys.write(f"# the browser test's key\ntester {API_KEY}\n")
    keys.close()
    try:
        yield from run_server("--api-keys-file", keys.name)
    finally:
        os.unlink(keys.name)


@pytest.fixture(scope="module")
def auto_server():
    """FSRCNN_x3 (the default) beside `auto` and the anime model realesr-animevideov3-x3, all of them (auto's five
    networks included) in $SUPERRES_MODELS."""
    yield from run_server("--model", "auto", "--model", "realesr-animevideov3-x3")


@pytest.fixture(scope="module")
def browser():
    downloads = tempfile.mkdtemp(prefix="superres-downloads-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1100",
                     "--force-device-scale-factor=1", "--disable-gpu"]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": downloads,
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    driver.downloads = downloads
    yield driver
    driver.quit()
    shutil.rmtree(downloads, ignore_errors=True)


def save_full_page(driver, path):
    """A PNG of the whole page, beyond the window's height (Chrome DevTools)."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
    })
    path.write_bytes(base64.b64decode(shot["data"]))


def wait(driver, seconds=30):
    return WebDriverWait(driver, seconds, poll_frequency=0.1)


def enhance_photo(browser, seconds=180):
    """Chooses PHOTO in the page, starts, waits for the result; returns the result's (width, height)."""
    browser.find_element(By.ID, "file").send_keys(str(PHOTO))
    wait(browser).until(lambda d: "256×256" in d.find_element(By.ID, "chosen").text)
    browser.find_element(By.ID, "start").click()
    wait(browser, seconds).until(ec.visibility_of_element_located((By.ID, "result")))
    return tuple(browser.execute_script(
        "const img = document.getElementById('after'); return [img.naturalWidth, img.naturalHeight];"))


def test_enhance_compare_zoom_download(server, browser):
    browser.get(server + "/")
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) > 0)
    assert browser.find_element(By.ID, "model").get_attribute("value") == "FSRCNN_x3"
    assert browser.find_element(By.ID, "scale").get_attribute("value") == "3"
    # No drawing model is loaded here: the "Drawing / anime" switch is off and says why.
    assert not browser.find_element(By.ID, "drawing").is_enabled()

    # An upload the server refuses shows its problem in words.
    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as fake:
        fake.write(b"this is not a picture at all")
    browser.find_element(By.ID, "file").send_keys(fake.name)
    wait(browser).until(ec.element_to_be_clickable((By.ID, "start"))).click()
    message = wait(browser).until(ec.visibility_of_element_located((By.ID, "message")))
    assert "Unsupported image format" in message.text, message.text
    os.unlink(fake.name)

    # The real photo.
    browser.find_element(By.ID, "file").send_keys(str(PHOTO))
    wait(browser).until(lambda d: "256×256" in d.find_element(By.ID, "chosen").text)
    browser.find_element(By.ID, "start").click()
    wait(browser, 10).until(ec.visibility_of_element_located((By.ID, "progress")))
    wait(browser, 180).until(ec.visibility_of_element_located((By.ID, "result")))
    assert not browser.find_element(By.ID, "message").is_displayed()

    width, height = browser.execute_script(
        "const img = document.getElementById('after'); return [img.naturalWidth, img.naturalHeight];")
    assert (width, height) == (768, 768), (width, height)
    facts = browser.find_element(By.CSS_SELECTOR, ".facts").text
    assert "256×256" in facts and "768×768" in facts, facts

    # The divider works from the keyboard.
    divider = browser.find_element(By.ID, "divider")
    divider.send_keys(Keys.ARROW_LEFT * 5)
    assert divider.get_attribute("aria-valuenow") == "45"
    divider.send_keys(Keys.SHIFT + Keys.ARROW_RIGHT)
    assert divider.get_attribute("aria-valuenow") == "55"
    divider.send_keys(Keys.END)
    assert divider.get_attribute("aria-valuenow") == "100"
    divider.send_keys(Keys.HOME)
    assert divider.get_attribute("aria-valuenow") == "0"

    # Zoom to 200%: the stage is twice the result's size and drawn with pixelated rendering.
    browser.find_element(By.CSS_SELECTOR, "[data-zoom='2']").click()
    stage_width = browser.execute_script("return document.getElementById('stage').offsetWidth")
    assert stage_width == 1536, stage_width
    assert "pixelated" in browser.find_element(By.ID, "stage").get_attribute("class")
    browser.find_element(By.CSS_SELECTOR, "[data-zoom='fit']").click()
    for _ in range(50):
        divider.send_keys(Keys.ARROW_RIGHT)

    # Download.
    browser.find_element(By.ID, "download").click()
    target = pathlib.Path(browser.downloads) / "butterfly_x3.png"
    wait(browser, 30).until(lambda d: target.exists() and not list(pathlib.Path(d.downloads).glob("*.crdownload")))
    assert png_size(target) == (768, 768)

    # Screenshots of the whole page: as a person sees it, and at phone width.
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.3)
    save_full_page(browser, SCREENSHOT)
    browser.set_window_size(390, 1000)
    time.sleep(0.3)
    save_full_page(browser, SCREENSHOT.with_name(SCREENSHOT.stem + "-phone.png"))
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth > document.documentElement.clientWidth")
    assert not overflow, "the page scrolls sideways at phone width"

    # The job is visible through the API the page used.
    with urllib.request.urlopen(server + "/api/v1/models") as response:
        assert json.load(response)["default"] == "FSRCNN_x3"


def test_a_width_and_self_ensemble(server, browser):
    """Any size from the page: a width in pixels (the height follows), with the self-ensemble switch ticked."""
    browser.set_window_size(1280, 1100)
    browser.get(server + "/")
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) > 0)
    scales = [option.get_attribute("value") for option in browser.find_elements(By.CSS_SELECTOR, "#scale option")]
    assert {"1.5", "2.5", "3", "8", "width", "height"} <= set(scales), scales
    size = browser.find_element(By.ID, "size")
    assert not size.is_displayed()
    browser.execute_script("const s = document.getElementById('scale'); s.value = 'width';"
                           "s.dispatchEvent(new Event('change'));")
    assert size.is_displayed()
    size.clear()
    size.send_keys("500")
    browser.find_element(By.ID, "tta").click()
    assert browser.find_element(By.ID, "tta").is_selected()
    size = enhance_photo(browser, 240)
    assert size == (500, 500), size
    assert browser.find_element(By.ID, "fact-model").text.endswith("· 500×500")
    job_id = browser.find_element(By.ID, "download").get_attribute("href").split("/jobs/")[1].split("/")[0]
    with urllib.request.urlopen(f"{server}/api/v1/jobs/{job_id}") as response:
        job = json.load(response)
    assert job["width"] == 500 and job["tta"] is True, job
    assert browser.find_element(By.ID, "download").get_attribute("download") == "butterfly_500x500.png"
    browser.find_element(By.ID, "tta").click()


def test_the_files_profile_and_metadata(server, browser, tmp_path):
    """The chosen file's colour profile and what its result keeps, with keep and strip; a TIFF in and out."""
    binary = os.environ.get("SUPERRES_BIN") or str(ROOT / ".build/debug/superres")
    exiftool = shutil.which("exiftool")
    profile = pathlib.Path("/usr/share/color/icc/colord/AdobeRGB1998.icc")
    if exiftool is None or not profile.exists():
        pytest.fail("exiftool or the Adobe RGB profile is missing: run scripts/install-deps")
    photo = tmp_path / "tagged.jpg"
    subprocess.run([binary, "upscale", str(PHOTO), "-o", str(photo), "--model", str(MODEL), "--scale", "1"],
                   check=True)
    subprocess.run([exiftool, "-q", "-overwrite_original", f"-icc_profile<={profile}", "-Make=TestCam",
                    "-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-XMP-dc:Title=A test", "-XResolution=300",
                    "-YResolution=300", "-ResolutionUnit=inches", str(photo)], check=True)
    browser.set_window_size(1280, 1100)
    browser.get(server + "/")
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) > 0)
    browser.find_element(By.ID, "file").send_keys(str(photo))
    wait(browser).until(lambda d: d.find_element(By.ID, "metadata-info").is_displayed())
    assert browser.find_element(By.ID, "profile-name").text == "Compatible with Adobe RGB (1998)"
    kept = browser.find_element(By.ID, "metadata-lines").text
    assert "EXIF: kept" in kept and "XMP: kept" in kept and "300 dpi" in kept, kept
    browser.execute_script("const s = document.getElementById('metadata'); s.value = 'strip';"
                           "s.dispatchEvent(new Event('change'));")
    stripped = browser.find_element(By.ID, "metadata-lines").text
    assert "EXIF: dropped" in stripped and "XMP: dropped" in stripped, stripped
    browser.find_element(By.ID, "start").click()
    wait(browser, 240).until(ec.visibility_of_element_located((By.ID, "result")))
    job_id = browser.find_element(By.ID, "download").get_attribute("href").split("/jobs/")[1].split("/")[0]
    with urllib.request.urlopen(f"{server}/api/v1/jobs/{job_id}") as response:
        job = json.load(response)
    assert job["metadata"] == "strip" and "colour profile Compatible with Adobe RGB (1998): kept" in \
        job["metadataReport"], job
    browser.execute_script("const s = document.getElementById('metadata'); s.value = 'keep';"
                           "s.dispatchEvent(new Event('change'));")
    # A TIFF, which browsers do not show: its size comes from the server, and the result is offered as a download.
    browser.find_element(By.ID, "again").click()
    scan = tmp_path / "scan.tif"
    subprocess.run([binary, "upscale", str(PHOTO), "-o", str(scan), "--model", str(MODEL), "--scale", "1"],
                   check=True)
    browser.find_element(By.ID, "file").send_keys(str(scan))
    wait(browser).until(lambda d: "256×256" in d.find_element(By.ID, "chosen").text)
    browser.execute_script("const s = document.getElementById('format'); s.value = 'tif';"
                           "s.dispatchEvent(new Event('change'));")
    browser.find_element(By.ID, "start").click()
    wait(browser, 240).until(ec.visibility_of_element_located((By.ID, "result")))
    assert browser.find_element(By.ID, "no-preview").is_displayed()
    assert browser.find_element(By.ID, "download").get_attribute("download") == "scan_x3.tif"
    with urllib.request.urlopen(browser.find_element(By.ID, "download").get_attribute("href")) as response:
        assert response.read(4) in (b"II*\x00", b"MM\x00*")
    browser.execute_script("const s = document.getElementById('format'); s.value = 'png';"
                           "s.dispatchEvent(new Event('change'));")


def test_progress_and_cancel(server, browser, tmp_path):
    # baby.png enlarged ×3 by superres itself: 1536×1536 takes seconds at 32-pixel tiles, so the cancel reaches the
    # job while its tiles run (at 512×512 a fast machine finished before the click arrived).
    large = tmp_path / "large.png"
    binary = os.environ.get("SUPERRES_BIN") or str(ROOT / ".build/debug/superres")
    subprocess.run([binary, "upscale", str(LARGE_PHOTO), "-o", str(large), "--model", str(MODEL)], check=True)
    browser.set_window_size(1280, 1100)
    browser.get(server + "/")
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) > 0)
    browser.find_element(By.ID, "file").send_keys(str(large))
    wait(browser).until(lambda d: "1536×1536" in d.find_element(By.ID, "chosen").text)
    browser.find_element(By.ID, "start").click()
    # Wait for processing progress from the job's events, then cancel.
    wait(browser, 60).until(lambda d: "%" in d.find_element(By.ID, "process-text").text
                            or d.find_element(By.ID, "result").is_displayed())
    if browser.find_element(By.ID, "result").is_displayed():
        pytest.skip("the job finished before it could be cancelled (a fast build); cancel not exercised")
    assert int(browser.find_element(By.ID, "upload-bar").get_attribute("value")) == 100
    browser.find_element(By.ID, "cancel").click()
    message = wait(browser, 60).until(ec.visibility_of_element_located((By.ID, "message")))
    assert "Cancelled" in message.text, message.text
    assert not browser.find_element(By.ID, "result").is_displayed()
    assert browser.find_element(By.ID, "start").is_enabled()


if __name__ == "__main__":
    raise SystemExit(pytest.main(["-q", __file__]))


def test_auto_shows_what_it_found(auto_server, browser, tmp_path):
    """`auto` chosen in the page: a JPEG of quality 30 goes to SRMD, and the result says what the input looked like."""
    binary = os.environ.get("SUPERRES_BIN") or str(ROOT / ".build/debug/superres")
    jpeg = tmp_path / "old-photo.jpg"
    subprocess.run([binary, "upscale", str(PHOTO), "-o", str(jpeg), "--model", str(MODEL), "--quality", "30"],
                   check=True)
    browser.set_window_size(1280, 1100)
    browser.get(auto_server + "/")
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) > 1)
    labels = [option.text for option in browser.find_elements(By.CSS_SELECTOR, "#model option")]
    assert "auto – chooses per image" in labels, labels
    # The "Drawing / anime" switch picks the drawing model and gives the default back when turned off.
    drawing = browser.find_element(By.ID, "drawing")
    assert drawing.is_enabled() and not drawing.is_selected()
    drawing.click()
    assert browser.find_element(By.ID, "model").get_attribute("value") == "realesr-animevideov3-x3"
    drawing.click()
    assert browser.find_element(By.ID, "model").get_attribute("value") == "FSRCNN_x3"
    browser.execute_script("const s = document.getElementById('model'); s.value = 'auto';"
                           "s.dispatchEvent(new Event('change'));")
    browser.find_element(By.ID, "file").send_keys(str(jpeg))
    wait(browser).until(lambda d: "768×768" in d.find_element(By.ID, "chosen").text)
    browser.find_element(By.ID, "start").click()
    wait(browser, 240).until(ec.visibility_of_element_located((By.ID, "result")))
    found = browser.find_element(By.ID, "fact-choice").text
    assert found.startswith("JPEG quality 30, blockiness ") and "→ srmd-x3, noise level " in found, found
    model = browser.find_element(By.ID, "fact-model").text
    assert model.startswith("auto → srmd-x3, noise level "), model
    save_full_page(browser, SCREENSHOT.with_name("auto-choice.png"))


def test_api_key_form(keyed_server, browser):
    """A server with --api-keys-file: the page asks for a key, refuses a wrong one, and with the right one works
    end to end (the upload, the event stream and the result image all carry the key's cookie)."""
    browser.set_window_size(1280, 1100)
    browser.delete_all_cookies()
    browser.get(keyed_server + "/")
    form = wait(browser).until(ec.visibility_of_element_located((By.ID, "key-form")))
    assert "needs an API key" in form.text, form.text
    assert browser.find_elements(By.CSS_SELECTOR, "#model option") == []

    key = browser.find_element(By.ID, "key")
    key.send_keys("not-the-key-of-this-server-at-all")
    browser.find_element(By.ID, "key-save").click()
    wait(browser).until(lambda d: "did not accept" in d.find_element(By.ID, "key-hint").text)
    assert "error" in browser.find_element(By.ID, "key-hint").get_attribute("class")

    key.clear()
    key.send_keys(API_KEY)
    browser.find_element(By.ID, "key-save").click()
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model option")) > 0)
    assert not browser.find_element(By.ID, "key-form").is_displayed()
    cookie = browser.get_cookie("superres_api_key")
    assert cookie is not None and cookie.get("sameSite") == "Strict", cookie

    size = enhance_photo(browser)
    assert size == (768, 768), size

    # Without the cookie the API refuses again (the key is not kept anywhere else).
    browser.delete_all_cookies()
    browser.get(keyed_server + "/")
    wait(browser).until(ec.visibility_of_element_located((By.ID, "key-form")))
    browser.delete_all_cookies()

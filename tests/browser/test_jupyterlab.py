"""Chapter 03's explorer, live in JupyterLab: what only a browser can show.

Starts ``jupyter lab`` from this Python's environment on a copy of ``notebooks/`` (outputs
never reach the repository), opens notebook 03 in headless Chromium, runs every cell, and
checks that the explorer is a live widget: its controls render, its ipympl canvas gets a
non-blank frame, and moving the std slider changes the canvas pixels (the blitted update
travels kernel -> browser). No cell may end in an error.

Needs ``playwright`` (pip) and Debian's ``/usr/bin/chromium`` (``apt-get install chromium``);
without them the test skips. Run it with ``make test-browser``. Everything the server,
kernel and browser write goes to pytest's temporary folders.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout, sync_playwright
except ImportError:  # the tests skip; nothing else in this file needs playwright
    sync_playwright = PlaywrightTimeout = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOK = "03_weight_initialization.ipynb"
EXPLORER_CELL = "explorer = init_explorer("  # how the explorer cell's source starts
LAB_EXTENSIONS = {"@jupyter-widgets/jupyterlab-manager", "jupyter-matplotlib"}
BUDGET = 110.0  # seconds for everything: server, browser, notebook run, checks
ARROW_PRESSES = 20  # std is a log slider with step 0.01: 20 steps multiply std by 10**0.2

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sync_playwright is None,
                       reason="playwright is not installed (`make test-browser` installs it)"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing (`apt-get install chromium` installs it)"),
]

ISOLATED = ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
            "MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")

# Browser-side helpers. The explorer's image canvas is the first canvas of ipympl's canvas div
# (the second one, on top, only draws the zoom rectangle). Pixels are read from a copy, so
# ipympl's own canvas context is left alone.
PIXELS_JS = """c => {
    const copy = document.createElement('canvas');
    copy.width = c.width; copy.height = c.height;
    if (!c.width || !c.height) return new Uint8ClampedArray(0);
    const context = copy.getContext('2d', {willReadFrequently: true});
    context.drawImage(c, 0, 0);
    return context.getImageData(0, 0, c.width, c.height).data;
}"""
INK_JS = f"""c => {{
    const d = ({PIXELS_JS})(c);
    let ink = 0;
    for (let i = 0; i < d.length; i += 4)
        if (d[i + 3] > 0 && (d[i] < 245 || d[i + 1] < 245 || d[i + 2] < 245)) ink++;
    return ink;
}}"""
KEEP_JS = f"""c => {{
    c.__kept = ({PIXELS_JS})(c);
    return [c.width, c.height];
}}"""
CHANGED_JS = f"""c => {{
    const now = ({PIXELS_JS})(c), old = c.__kept;
    if (!old || old.length !== now.length) return -1;
    let changed = 0;
    for (let i = 0; i < now.length; i += 4)
        if (now[i] !== old[i] || now[i + 1] !== old[i + 1] || now[i + 2] !== old[i + 2]
            || now[i + 3] !== old[i + 3]) changed++;
    return changed;
}}"""
ALL_RUN_JS = """() => {
    const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
        .map(p => p.textContent.trim());
    return prompts.length > 0 && prompts.every(t => /^\\[\\d+\\]:$/.test(t));
}"""
# Error outputs render as stderr too (JupyterLab turns a traceback into that mime type).
STDERR_JS = """() => [...document.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(e => e.textContent)"""
# Run All stops at a failing cell: done when every cell ran or a traceback shows.
DONE_JS = f"""() => ({ALL_RUN_JS})() || ({STDERR_JS})().some(t => t.includes('Traceback'))"""


class Deadline:
    """One time budget shared by every wait, so the whole test stays bounded."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def seconds(self, cap: float) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            pytest.fail(f"browser test ran out of its {BUDGET:.0f} s budget")
        return min(cap, left)

    def ms(self, cap: float) -> float:
        return 1000 * self.seconds(cap)


@pytest.fixture(scope="module")
def deadline():
    return Deadline(BUDGET)


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory):
    """Environment for the server, kernel and browser: every user folder is temporary."""
    home = tmp_path_factory.mktemp("lab_home")
    env = dict(os.environ)
    for name in ISOLATED:
        env[name] = str(home / name.lower())
        Path(env[name]).mkdir()
    # The kernelspec and the ipywidgets / ipympl lab extensions live in this environment's
    # share/jupyter; keep it on the data path whatever JUPYTER_DATA_DIR says.
    share = Path(sys.prefix) / "share" / "jupyter"
    env["JUPYTER_PATH"] = os.pathsep.join(
        [str(share)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    for name in ("JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR", "JUPYTER_TOKEN"):
        env.pop(name, None)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def _write_settings(settings_dir: Path):
    """User settings: no autosave, no news / update checks (no network, no pop-ups)."""
    for plugin, values in {
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                        "checkForUpdates": False},
    }.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


class Lab:
    def __init__(self, url: str, token: str, root: Path, log: Path):
        self.url, self.token, self.root, self.log = url, token, root, log

    def api(self, path: str, timeout: float = 5):
        return json.loads(_get(f"{self.url}{path}", self.token, timeout))

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


@pytest.fixture(scope="module")
def lab(lab_env, tmp_path_factory, deadline):
    """``jupyter lab`` on a copy of notebooks/, on a free localhost port, with a token."""
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    shutil.copytree(NOTEBOOKS, root,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    settings, workspaces = tmp / "user-settings", tmp / "workspaces"
    _write_settings(settings)
    workspaces.mkdir()
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={workspaces}",
        "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = tmp / "server.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(command, cwd=root, env=lab_env, stdout=log_file,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Lab(f"http://127.0.0.1:{port}", token, root, log)
    try:
        _wait_for_server(server, process, deadline)
        yield server
    finally:
        _stop_server(server, process)


def _wait_for_server(server: Lab, process: subprocess.Popen, deadline: Deadline):
    end = time.monotonic() + deadline.seconds(40)
    while True:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited with {process.returncode}:\n{server.log_tail()}")
        try:
            server.api("/api/status", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > end:
                pytest.fail(f"jupyter lab did not answer in time:\n{server.log_tail()}")
            time.sleep(0.2)


def _stop_server(server: Lab, process: subprocess.Popen):
    if process.poll() is None:
        try:  # shut the kernels down through the API first: no orphaned kernel processes
            for kernel in server.api("/api/kernels"):
                request = urllib.request.Request(
                    f"{server.url}/api/kernels/{kernel['id']}", method="DELETE",
                    headers={"Authorization": f"token {server.token}"})
                with urllib.request.urlopen(request, timeout=10):
                    pass
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        process.send_signal(signal.SIGTERM)  # jupyter_server stops cleanly on SIGTERM
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def browser(lab_env, deadline):
    """Headless Debian Chromium through Playwright; closed however the test ends."""
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, env=lab_env,
            timeout=deadline.ms(30))
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


def test_lab_finds_kernel_and_widget_extensions(lab):
    """The isolated folders still leave the venv's kernelspec and lab extensions visible."""
    specs = lab.api("/api/kernelspecs")["kernelspecs"]
    assert "python3" in specs, f"kernelspecs found: {sorted(specs)}"
    html = _get(f"{lab.url}/lab", lab.token, 10).decode()
    config = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                       html, re.S)
    assert config, "no page config in /lab"
    found = {ext["name"] for ext in json.loads(config.group(1)).get("federated_extensions", [])}
    assert LAB_EXTENSIONS <= found, f"lab extensions found: {sorted(found)}"


def test_explorer_is_live_in_jupyterlab(lab, browser, deadline, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(deadline.ms(30))
    console = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    try:
        _run_and_check(page, lab, deadline, tmp_path, console)
    except BaseException:
        failure_png = tmp_path / "failure.png"
        try:
            page.screenshot(path=failure_png, timeout=10_000)
            print(f"screenshot at failure: {failure_png}")
        except Exception as error:  # never hide the real failure behind this one
            print(f"no screenshot at failure: {error}")
        raise
    finally:
        if console:
            print("browser console (errors and warnings):", *console[:30], sep="\n  ")
        context.close()


def _run_and_check(page, lab, deadline, tmp_path, console):
    t0 = time.monotonic()
    workspace = f"test-{uuid.uuid4().hex[:8]}"
    page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{NOTEBOOK}?reset&token={lab.token}",
              wait_until="domcontentloaded", timeout=deadline.ms(30))
    status_bar = page.locator("#jp-main-statusbar")
    # The status bar, not the toolbar: the toolbar's idle circle shows before the kernel runs.
    status_bar.get_by_text(re.compile(r"\|\s*Idle")).wait_for(timeout=deadline.ms(40))
    t_idle = time.monotonic()

    # Clear the stored outputs first, so "every prompt shows a number" means "all cells ran".
    _menu(page, "Edit", "editmenu:clear-all", deadline)
    _wait(page, f"() => !({ALL_RUN_JS})()", None, 10, deadline, "outputs were not cleared")
    _menu(page, "Run", "runmenu:run-all", deadline)
    _wait(page, DONE_JS, None, 60, deadline, "Run All did not finish")
    _assert_no_errors(page)
    status_bar.get_by_text(re.compile(r"\|\s*Idle")).wait_for(timeout=deadline.ms(20))
    t_ran = time.monotonic()

    cell = page.locator(".jp-Notebook .jp-CodeCell").filter(
        has=page.locator(".jp-InputArea-editor", has_text=EXPLORER_CELL))
    assert cell.count() == 1, "expected exactly one explorer cell"
    # A live widget, not its text or PNG fallback.
    labels = [label.strip() for label in cell.locator(".widget-label").all_text_contents()]
    for name in ("scheme", "std", "activation", "depth", "width"):
        assert name in labels, f"control {name!r} missing; explorer output: " + "; ".join(
            cell.locator(".jp-OutputArea-output").all_text_contents())[:500]
    assert cell.locator(".jp-OutputArea-output img").count() == 0, "explorer shown as a PNG"
    canvas = cell.locator(".jupyter-matplotlib-canvas-div canvas").first
    canvas.wait_for(state="attached", timeout=deadline.ms(10))
    canvas.scroll_into_view_if_needed(timeout=deadline.ms(10))
    # The canvas exists before its first frame: wait for ink.
    _wait(page, INK_JS, canvas.element_handle(), 15, deadline,
          lambda: "the explorer's ipympl canvas stays blank (canvas {}x{} px); browser "
                  "console: {}".format(*canvas.evaluate("c => [c.width, c.height]"),
                                       console[-5:]))
    t_frame = time.monotonic()

    slider = cell.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(r"^\s*std\s*$")))
    assert slider.count() == 1, "expected exactly one std slider"
    readout = slider.locator(".widget-readout")
    std_before = readout.text_content().strip()

    # Pixels before the move, and proof that they are settled (no late redraw to mistake
    # for the slider's effect).
    # A frame can still be on its way after the kernel is idle (the canvas's first full
    # frame, a resize once it scrolls into view): wait, up to 20 s, for 0.7 s without change.
    settle_until = time.monotonic() + deadline.seconds(20)
    while True:
        size = canvas.evaluate(KEEP_JS)
        page.wait_for_timeout(700)
        if canvas.evaluate(CHANGED_JS) == 0:
            break
        assert time.monotonic() < settle_until, "canvas still changing before the slider moved"
    ink_before = canvas.evaluate(INK_JS)
    before_png = tmp_path / "explorer_before.png"
    cell.screenshot(path=before_png, timeout=deadline.ms(10))

    handle = slider.locator(".noUi-handle")
    handle.focus()
    t_move = time.monotonic()
    for _ in range(ARROW_PRESSES):
        handle.press("ArrowRight")
    _wait(page, f"c => ({CHANGED_JS})(c) > 500", canvas.element_handle(), 15, deadline,
          lambda: f"canvas pixels did not change after moving std "
                  f"({readout.text_content().strip()}); console: {console[-5:]}")
    t_changed = time.monotonic()
    std_after = readout.text_content().strip()
    assert float(std_after) > float(std_before), (std_before, std_after)
    # Let the last of the 20 updates land before the screenshot and the final checks.
    page.wait_for_timeout(500)
    status_bar.get_by_text(re.compile(r"\|\s*Idle")).wait_for(timeout=deadline.ms(20))
    changed = canvas.evaluate(CHANGED_JS)
    ink_after = canvas.evaluate(INK_JS)
    after_png = tmp_path / "explorer_after.png"
    cell.screenshot(path=after_png, timeout=deadline.ms(10))

    assert changed > 500, f"only {changed} canvas pixels changed"
    assert ink_after > 0.01 * size[0] * size[1], "canvas blank after the move"
    _assert_no_errors(page)
    message = cell.locator(".widget-html").all_text_contents()

    print(f"canvas {size[0]}x{size[1]} px; ink before {ink_before}, after {ink_after}; "
          f"{changed} px changed; std {std_before} -> {std_after}; status {message!r}")
    print(f"timings: kernel idle {t_idle - t0:.1f} s, run all {t_ran - t_idle:.1f} s, first "
          f"frame +{t_frame - t_ran:.1f} s, {ARROW_PRESSES} key presses -> pixels changed "
          f"{t_changed - t_move:.2f} s")
    print(f"screenshot before: {before_png}\nscreenshot after:  {after_png}")


def _wait(page, js: str, arg, seconds: float, deadline: Deadline, why):
    """``page.wait_for_function`` with a readable failure (``why``: text or callable)."""
    try:
        page.wait_for_function(js, arg=arg, polling=100, timeout=deadline.ms(seconds))
        return
    except PlaywrightTimeout:
        pass
    pytest.fail(f"{why() if callable(why) else why} (waited up to {seconds:.0f} s)")


def _menu(page, menu: str, command: str, deadline: Deadline):
    page.locator("#jp-MainMenu .lm-MenuBar-item").filter(
        has_text=re.compile(rf"^\s*{menu}\s*$")).click(timeout=deadline.ms(10))
    item = page.locator(f".lm-Menu li[data-command='{command}']")
    item.click(timeout=deadline.ms(10))


def _assert_no_errors(page):
    stderr = page.evaluate(STDERR_JS)
    errors = [text for text in stderr
              if "Traceback" in text or re.search(r"^\w*(Error|Exception)\b", text, re.M)]
    widget_errors = page.get_by_text("Error displaying widget").count()
    if stderr:
        print("stderr outputs in the notebook:", *[s[:300] for s in stderr], sep="\n  ")
    assert not errors, "error output in the notebook:\n" + "\n---\n".join(errors)
    assert widget_errors == 0, "a widget failed to display"

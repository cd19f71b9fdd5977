"""Every chapter's explorer, live in JupyterLab: what only a browser can show.

The registry of explorers (``course_utils.widgets.registry.EXPLORERS``) gives one row per
notebook: the notebook, how its explorer cell's source starts, and the controls to move
(label and kind). Per row the test opens the notebook
in headless Chromium, runs every cell, checks that the explorer is a live widget (controls
render, the ipympl canvas gets a non-blank frame) and then moves every listed control
``MOVES`` times (a slider by an arrow key on its handle, a dropdown by picking a neighbouring
option). Each move checks that the control's readout and the canvas pixels change, and times
input -> changed pixels inside the page. The times are printed with the p50 targets for
humans; they are not asserted (CI machines are noisy). No cell may end in an error and no
widget may fail to display.

Adding a chapter is one ``Entry`` in the registry. The test relies only on the DOM: ipympl's
canvas (``.jupyter-matplotlib-canvas-div canvas``, the first one is the image) and the
controls' ``.widget-label``, never on how an explorer draws.

``jupyter lab`` runs from this Python's environment on a copy of the notebooks (outputs never
reach the repository), with autosave off and every user folder temporary. The notebooks come
from ``notebooks/``, or from the folder in ``$COURSE_NOTEBOOKS`` (the kernel imports whatever
``course_utils`` the environment, e.g. ``$PYTHONPATH``, provides).

Needs ``playwright`` (pip) and Debian's ``/usr/bin/chromium`` (``apt-get install chromium``);
without them the test skips, except in CI (``CI=true``), where it fails. Run it with
``make e2e``. Besides the rows: every other notebook is run (open, Run All, no error), every
notebook that builds an explorer must have a row, and one committed notebook is opened
*without* running it to check the first look (the explorer's snapshot, no widget error).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
except ImportError:  # the tests skip; nothing else in this file needs playwright
    sync_playwright = PlaywrightTimeout = None


# --- the table: one row per notebook ---------------------------------------------------------

# The rows are course_utils.widgets.registry.EXPLORERS, the one list of explorers (the
# contract test and the benchmarks read it too): per notebook, its explorer cell's first
# characters and the controls to move, by their on-screen label (``control.label``), with
# their kind (SLIDER, DROPDOWN or CHECKBOX) and whether they redraw while moving. A new
# chapter adds an Entry there.
from course_utils.widgets.registry import CHECKBOX, DROPDOWN, EXPLORERS, SLIDER, Control  # noqa: E402
from course_utils.widgets.registry import Entry as ExplorerRow  # noqa: E402

MOVES = 5  # timed moves per control
TARGET_CONTINUOUS_MS = 150  # p50 targets, printed for humans, never asserted
TARGET_ANY_MS = 300

# --- settings -------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOTEBOOKS = Path(
    os.environ.get("COURSE_NOTEBOOKS") or Path(__file__).resolve().parents[2] / "notebooks"
).resolve()
LAB_EXTENSIONS = {"@jupyter-widgets/jupyterlab-manager", "jupyter-matplotlib"}
STARTUP_BUDGET = 90.0  # seconds for the server and the browser to start
OPEN_BUDGET = 90.0  # seconds per row to open the notebook and run every cell
CONTROL_BUDGET = 30.0  # seconds per control for its moves (~6-15 s on 2 busy cores)
MOVE_TIMEOUT = 20.0  # seconds for one move to reach the canvas
SETTLE_QUIET = 0.7  # seconds without a canvas change that count as "settled"
SETTLE_TIMEOUT = 20.0

MISSING = (
    "playwright is not installed (`make install` installs it)"
    if sync_playwright is None
    else f"{CHROMIUM} is missing (`apt-get install chromium` installs it)"
    if not CHROMIUM.exists()
    else None
)
# On a developer's machine without Chromium the browser tests skip; in CI (CI=true, where
# .ci/run installs Chromium) a missing browser is a failure, never a silent skip.
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(MISSING is not None and not IN_CI, reason=str(MISSING)),
]


@pytest.fixture(autouse=True)
def _browser_available():
    if MISSING is not None:
        pytest.fail(f"CI=true but the browser test cannot run: {MISSING}")


ISOLATED = (
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_DATA_DIR",
    "JUPYTER_RUNTIME_DIR",
    "IPYTHONDIR",
    "MPLCONFIGDIR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
)
IDLE = re.compile(r"\|\s*Idle")

# Browser-side helpers, installed in every page as window.__courseTest. Pixels are read from a
# copy, so ipympl's own canvas context is left alone; a pixel is one uint32 (RGBA).
PAGE_HELPERS = """
window.__courseTest = (() => {
    const copy = document.createElement('canvas');
    const context = copy.getContext('2d', {willReadFrequently: true});
    function pixels(c) {
        if (!c.width || !c.height) return new Uint32Array(0);
        if (copy.width !== c.width || copy.height !== c.height) {
            copy.width = c.width; copy.height = c.height;
        }
        context.clearRect(0, 0, c.width, c.height);
        context.drawImage(c, 0, 0);
        return new Uint32Array(context.getImageData(0, 0, c.width, c.height).data.buffer);
    }
    function changed(a, b) {  // a resized canvas counts as all changed
        if (a.length !== b.length) return Math.max(a.length, b.length, 1);
        let n = 0;
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
        return n;
    }
    function ink(c) {  // pixels that are neither transparent nor near-white
        let n = 0;
        for (const p of pixels(c)) {
            const r = p & 255, g = (p >>> 8) & 255, b = (p >>> 16) & 255, a = p >>> 24;
            if (a > 0 && (r < 245 || g < 245 || b < 245)) n++;
        }
        return n;
    }
    const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
    // Resolves once the canvas has not changed for quietMs (checked every animation frame).
    async function settle(c, quietMs, timeoutMs) {
        const start = performance.now();
        let last = pixels(c), since = start;
        for (;;) {
            await frame();
            const now = performance.now(), p = pixels(c);
            if (changed(p, last)) { last = p; since = now; }
            if (now - since >= quietMs) return {settled: true, ms: now - start};
            if (now - start >= timeoutMs) return {settled: false, ms: now - start};
        }
    }
    // Keeps the canvas's pixels and notes the time of the next keydown / input / change
    // (capturing, so before any widget sees it); then waits for ipympl to paint the canvas
    // (its context's drawImage, wrapped once) and compares the pixels after each paint.
    // `pending` resolves with the ms from that event to the first paint that changed pixels.
    // No polling: the page does nothing while the kernel works, so the measurement does not
    // take CPU from the kernel it measures.
    function arm(c, timeoutMs) {
        const kept = pixels(c);
        let t0 = null, cause = null, checks = 0, checkMs = 0, finished = false;
        const mark = e => { if (t0 === null) { t0 = performance.now(); cause = e.type; } };
        const events = ['keydown', 'input', 'change'];
        for (const e of events) window.addEventListener(e, mark, true);
        const context = c.getContext('2d');
        if (!context.__courseOriginalDrawImage) {
            context.__courseOriginalDrawImage = context.drawImage;
            context.drawImage = function (...args) {
                const result = context.__courseOriginalDrawImage.apply(this, args);
                if (context.__courseOnPaint) context.__courseOnPaint(performance.now());
                return result;
            };
        }
        api.pending = new Promise(resolve => {
            const done = result => {
                if (finished) return;
                finished = true;
                context.__courseOnPaint = null;
                for (const e of events) window.removeEventListener(e, mark, true);
                resolve(Object.assign(result, {cause, checks,
                                               checkMs: checks ? checkMs / checks : 0}));
            };
            context.__courseOnPaint = painted => {
                const now = performance.now(), n = changed(pixels(c), kept);
                checks++; checkMs += performance.now() - now;
                if (n) done({ms: t0 === null ? null : painted - t0, changed: n,
                             early: t0 === null});
            };
            setTimeout(() => done({ms: null, changed: changed(pixels(c), kept),
                                   pressed: t0 !== null}), timeoutMs);
        });
        return [c.width, c.height];
    }
    const api = {pixels, changed, ink, settle, arm, pending: null};
    return api;
})();
"""
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
# Where a control stands: [index, count] (slider: aria value and range; select: option index).
POSITION_JS = """e => e.type === 'checkbox' ? [e.checked ? 1 : 0, 1]
    : e.tagName === 'SELECT'
    ? [e.selectedIndex, e.options.length - 1]
    : [Number(e.getAttribute('aria-valuenow')) - Number(e.getAttribute('aria-valuemin')),
       Number(e.getAttribute('aria-valuemax')) - Number(e.getAttribute('aria-valuemin'))]"""


class Deadline:
    """One time budget shared by every wait, so a whole stage stays bounded."""

    def __init__(self, seconds: float, what: str):
        self.budget, self.what = seconds, what
        self.end = time.monotonic() + seconds

    def seconds(self, cap: float) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            pytest.fail(f"{self.what} ran out of its {self.budget:.0f} s budget")
        return min(cap, left)

    def ms(self, cap: float) -> float:
        return 1000 * self.seconds(cap)


@pytest.fixture(scope="module")
def startup():
    return Deadline(STARTUP_BUDGET, "starting JupyterLab and Chromium")


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
        [str(share)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    )
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
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
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

    def shutdown_kernels(self):
        """Shut every kernel down through the API: no orphaned kernel processes."""
        try:
            for kernel in self.api("/api/kernels"):
                request = urllib.request.Request(
                    f"{self.url}/api/kernels/{kernel['id']}",
                    method="DELETE",
                    headers={"Authorization": f"token {self.token}"},
                )
                with urllib.request.urlopen(request, timeout=10):
                    pass
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass


@pytest.fixture(scope="module")
def lab(lab_env, tmp_path_factory, startup):
    """``jupyter lab`` on a copy of the notebooks, on a free localhost port, with a token."""
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    shutil.copytree(
        NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
    settings, workspaces = tmp / "user-settings", tmp / "workspaces"
    _write_settings(settings)
    workspaces.mkdir()
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={workspaces}",
        "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = tmp / "server.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=lab_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Lab(f"http://127.0.0.1:{port}", token, root, log)
    try:
        _wait_for_server(server, process, startup)
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
        server.shutdown_kernels()
        process.send_signal(signal.SIGTERM)  # jupyter_server stops cleanly on SIGTERM
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def browser(lab_env, startup):
    """Headless Debian Chromium through Playwright; closed however the test ends."""
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            env=lab_env,
            timeout=startup.ms(30),
        )
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
    config = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert config, "no page config in /lab"
    found = {ext["name"] for ext in json.loads(config.group(1)).get("federated_extensions", [])}
    assert LAB_EXTENSIONS <= found, f"lab extensions found: {sorted(found)}"


@pytest.mark.parametrize("row", EXPLORERS, ids=lambda row: Path(row.notebook).stem)
def test_explorer_is_live_in_jupyterlab(row: ExplorerRow, lab, browser, tmp_path):
    if not (NOTEBOOKS / row.notebook).exists():
        if os.environ.get("COURSE_NOTEBOOKS"):
            pytest.skip(f"{row.notebook} is not in $COURSE_NOTEBOOKS={NOTEBOOKS}")
        pytest.fail(f"{row.notebook} is not in {NOTEBOOKS}: fix the EXPLORERS table")
    deadline = Deadline(
        OPEN_BUDGET + CONTROL_BUDGET * len(row.controls), f"the browser test of {row.notebook}"
    )
    context, page, console = _new_page(browser, deadline)
    try:
        _run_and_check(row, page, lab, deadline, tmp_path, console)
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
        lab.shutdown_kernels()  # the next row starts its own kernel


#: The Chinese edition (notebooks/zh/, ``make zh``) shares every code cell with the English one;
#: one explorer row, run from its zh notebook, shows that it opens and its explorer works.
ZH_ROW = "04_batch_norm.ipynb"


def test_chinese_edition_explorer_is_live_in_jupyterlab(lab, browser, tmp_path):
    row = next(r for r in EXPLORERS if r.notebook == ZH_ROW)
    zh = dataclasses.replace(row, notebook=f"zh/{row.notebook}")
    if not (NOTEBOOKS / zh.notebook).exists():
        pytest.fail(f"{zh.notebook} is missing from {NOTEBOOKS}: run make zh")
    deadline = Deadline(
        OPEN_BUDGET + CONTROL_BUDGET * len(zh.controls), f"the browser test of {zh.notebook}"
    )
    context, page, console = _new_page(browser, deadline)
    try:
        _run_and_check(zh, page, lab, deadline, tmp_path, console)
        text = "".join(page.locator(".jp-RenderedMarkdown").all_text_contents())
        chinese = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
        latin = sum(ch.isascii() and ch.isalpha() for ch in text)
        print(f"{zh.notebook}: {chinese} Chinese characters, {latin} Latin letters in its text")
        assert chinese > latin / 2, "the zh notebook's text does not read as Chinese"
    finally:
        if console:
            print("browser console (errors and warnings):", *console[:30], sep="\n  ")
        context.close()
        lab.shutdown_kernels()


def _open_and_run_all(page, lab, notebook: str, deadline: Deadline) -> tuple:
    """Open ``notebook`` in its own workspace, Run All, check no errors; (t0, t_idle, t_ran)."""
    t0 = time.monotonic()
    workspace = f"test-{uuid.uuid4().hex[:8]}"  # its own workspace: no previous notebook reopens
    page.goto(
        f"{lab.url}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={lab.token}",
        wait_until="domcontentloaded",
        timeout=deadline.ms(30),
    )
    status_bar = page.locator("#jp-main-statusbar")
    # The status bar, not the toolbar: the toolbar's idle circle shows before the kernel runs.
    status_bar.get_by_text(IDLE).wait_for(timeout=deadline.ms(40))
    t_idle = time.monotonic()

    # Clear the stored outputs first, so "every prompt shows a number" means "all cells ran".
    _menu(page, "Edit", "editmenu:clear-all", deadline)
    _wait(page, f"() => !({ALL_RUN_JS})()", None, 10, deadline, "outputs were not cleared")
    _menu(page, "Run", "runmenu:run-all", deadline)
    _wait(page, DONE_JS, None, 90, deadline, "Run All did not finish")
    _assert_no_errors(page)
    status_bar.get_by_text(IDLE).wait_for(timeout=deadline.ms(20))
    return t0, t_idle, time.monotonic()


def _new_page(browser, deadline: Deadline):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    context.add_init_script(PAGE_HELPERS)
    page = context.new_page()
    page.set_default_timeout(deadline.ms(30))
    console = []
    page.on(
        "console",
        lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    return context, page, console


ROWS = {row.notebook for row in EXPLORERS}
ALL_NOTEBOOKS = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_every_explorer_cell_has_a_row():
    """A notebook whose cells build an explorer is driven by a row, so its widget is checked."""
    import nbformat

    for name in ALL_NOTEBOOKS:
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        builds = [
            m.group(0)
            for c in notebook.cells
            if c.cell_type == "code"
            for m in [re.search(r"^\w+ = \w+_(explorer|dashboard)\(", c.source, re.M)]
            if m
        ]
        if builds:
            assert name in ROWS, f"{name} builds {builds} but has no row in EXPLORERS"


@pytest.mark.parametrize(
    "notebook",
    [n for n in ALL_NOTEBOOKS if n not in ROWS]
    or [pytest.param(None, marks=pytest.mark.skip("every notebook has a row"))],
)
def test_notebook_runs_in_jupyterlab(notebook, lab, browser, tmp_path):
    """Notebooks without an explorer row: open, Run All, no error output, no broken widget."""
    deadline = Deadline(OPEN_BUDGET, f"the browser test of {notebook}")
    context, page, console = _new_page(browser, deadline)
    try:
        t0, t_idle, t_ran = _open_and_run_all(page, lab, notebook, deadline)
        print(
            f"{notebook}: open -> all cells executed {t_ran - t0:.1f} s (kernel idle "
            f"{t_idle - t0:.1f} s, Run All {t_ran - t_idle:.1f} s)"
        )
        page.screenshot(path=tmp_path / "after_run_all.png", timeout=10_000)
    finally:
        if console:
            print("browser console (errors and warnings):", *console[:30], sep="\n  ")
        context.close()
        lab.shutdown_kernels()


FIRST_LOOK = "03_weight_initialization.ipynb"


def test_first_look_shows_the_explorer_snapshot(lab, browser, tmp_path):
    """A committed notebook opened without running: the explorer's snapshot, no widget error."""
    deadline = Deadline(OPEN_BUDGET, f"opening {FIRST_LOOK}")
    context, page, console = _new_page(browser, deadline)
    try:
        workspace = f"look-{uuid.uuid4().hex[:8]}"
        page.goto(
            f"{lab.url}/lab/workspaces/{workspace}/tree/{FIRST_LOOK}?reset&token={lab.token}",
            wait_until="domcontentloaded",
            timeout=deadline.ms(30),
        )
        page.locator("#jp-main-statusbar").get_by_text(IDLE).wait_for(timeout=deadline.ms(40))
        cell = page.locator(".jp-Notebook .jp-CodeCell").filter(
            has=page.locator(
                ".jp-InputArea-editor .cm-content",
                has_text=re.compile(r"^explorer = init_explorer\("),
            )
        )
        # JupyterLab renders only the cells near the viewport: scroll down until it exists.
        panel = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").first
        for _ in range(200):
            if cell.count():
                break
            panel.evaluate("e => e.scrollBy(0, 600)")
            page.wait_for_timeout(50)
        assert cell.count() == 1, "the explorer cell never rendered while scrolling"
        cell.scroll_into_view_if_needed(timeout=deadline.ms(10))
        snapshot = cell.locator(".jp-OutputArea-output img")
        snapshot.wait_for(timeout=deadline.ms(20))
        _wait(
            page,
            "i => i.complete && i.naturalWidth > 100",
            snapshot.element_handle(),
            10,
            deadline,
            "the explorer's snapshot image did not load",
        )
        cell.screenshot(path=tmp_path / "first_look_explorer.png", timeout=10_000)
        page.screenshot(path=tmp_path / "first_look.png", timeout=10_000)
        print(f"first look screenshots: {tmp_path}")
        for text in ("Error displaying widget", "model not found"):
            assert page.get_by_text(text).count() == 0, f"{FIRST_LOOK} shows {text!r} unopened"
    finally:
        context.close()
        lab.shutdown_kernels()


def _run_and_check(row: ExplorerRow, page, lab, deadline: Deadline, tmp_path: Path, console):
    t0, t_idle, t_ran = _open_and_run_all(page, lab, row.notebook, deadline)
    status_bar = page.locator("#jp-main-statusbar")

    cell = page.locator(".jp-Notebook .jp-CodeCell").filter(
        has=page.locator(
            ".jp-InputArea-editor .cm-line", has_text=re.compile("^" + re.escape(row.cell))
        )
    )
    assert cell.count() == 1, f"expected exactly one cell with a line starting {row.cell!r}"
    # A live widget, not its text or PNG fallback.
    labels = [
        label.strip()
        for label in cell.locator(".widget-label, .widget-checkbox label").all_text_contents()
    ]
    for control in row.controls:
        assert control.label in labels, (
            f"control {control.label!r} missing; labels {labels}; "
            "explorer output: "
            + "; ".join(cell.locator(".jp-OutputArea-output").all_text_contents())[:500]
        )
    assert cell.locator(".jp-OutputArea-output img").count() == 0, "explorer shown as a PNG"
    canvas = cell.locator(".jupyter-matplotlib-canvas-div canvas").first
    canvas.wait_for(state="attached", timeout=deadline.ms(10))
    canvas.scroll_into_view_if_needed(timeout=deadline.ms(10))
    # The canvas exists before its first frame: wait for ink.
    _wait(
        page,
        "c => window.__courseTest.ink(c) > 0",
        canvas.element_handle(),
        15,
        deadline,
        lambda: (
            "the explorer's ipympl canvas stays blank (canvas {}x{} px); browser "
            "console: {}".format(*canvas.evaluate("c => [c.width, c.height]"), console[-5:])
        ),
    )
    t_frame = time.monotonic()
    print(
        f"{row.notebook}: open -> all cells executed {t_ran - t0:.1f} s (kernel idle "
        f"{t_idle - t0:.1f} s, Run All {t_ran - t_idle:.1f} s), first explorer frame "
        f"+{t_frame - t_ran:.1f} s"
    )

    # Pixels before any move must be settled: frames can still arrive after Run All (the
    # canvas's first full frame, a resize once it scrolls into view).
    _wait_ready(page, canvas, status_bar, deadline, "before the first move")
    size = canvas.evaluate("c => [c.width, c.height]")
    ink_before = canvas.evaluate("c => window.__courseTest.ink(c)")
    before_png = tmp_path / "explorer_before.png"
    cell.screenshot(path=before_png, timeout=deadline.ms(10))

    for label, option in row.setup:
        box = cell.locator(".widget-inline-hbox").filter(
            has=page.locator(".widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
        )
        box.locator("select").select_option(label=option, timeout=deadline.ms(10))
        _wait_ready(page, canvas, status_bar, deadline, f"after setting {label} to {option}")
    if row.setup:
        print("set up first: " + ", ".join(f"{label} = {option}" for label, option in row.setup))

    status_lines, results = set(), {}
    for control in row.controls:
        results[control] = _move_control(control, cell, page, canvas, status_bar, deadline)
        status_lines.update(t.strip() for t in cell.locator(".widget-html").all_text_contents())

    ink_after = canvas.evaluate("c => window.__courseTest.ink(c)")
    after_png = tmp_path / "explorer_after.png"
    cell.screenshot(path=after_png, timeout=deadline.ms(10))
    assert ink_after > 0.01 * size[0] * size[1], "canvas blank after the moves"
    _assert_no_errors(page)

    print(f"canvas {size[0]}x{size[1]} px; ink before {ink_before}, after {ink_after}")
    print(
        f"input (slider: keydown, dropdown: input event) -> changed canvas pixels, measured "
        f"in the page, {MOVES} moves per control:"
    )
    for control, r in results.items():
        kind = control.kind + (", continuous" if control.continuous else "")
        print(
            f"  {control.label:<12} {kind:<20} ms: "
            + " ".join(f"{ms:5.0f}" for ms in r["ms"])
            + f"   p50 {r['p50']:5.0f}   px changed {min(r['changed'])}-{max(r['changed'])}"
            f"   {' -> '.join(r['values'])}"
        )
    checks = [c for r in results.values() for c in r["check_ms"]]
    print(
        f"  (timed to the paint that changed the pixels: ipympl's drawImage; "
        f"{statistics.mean(checks):.1f} ms a pixel comparison, done after each paint only)"
    )
    print(
        "explorer status line(s) seen after the moves:",
        sorted(line for line in status_lines if line) or "none",
    )
    print(_targets(results))
    print(f"screenshot before: {before_png}\nscreenshot after:  {after_png}")
    _record(row, results)


def _record(row: ExplorerRow, results: dict) -> None:
    """Append the moves' times to ``$COURSE_BENCH_BROWSER_JSON`` (JSON lines), if it is set:
    ``benchmarks/record.py`` (``make bench``) collects them into the benchmark record."""
    path = os.environ.get("COURSE_BENCH_BROWSER_JSON")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        for control, r in results.items():
            target = TARGET_CONTINUOUS_MS if control.continuous else TARGET_ANY_MS
            line = {
                "notebook": row.notebook.removesuffix(".ipynb"),
                "control": control.label,
                "kind": control.kind + (", continuous" if control.continuous else ""),
                "p50_ms": round(r["p50"], 1),
                "max_ms": round(max(r["ms"]), 1),
                "target_ms": target,
            }
            out.write(json.dumps(line) + "\n")


# The page event a move is timed from.
CAUSE = {SLIDER: "keydown", DROPDOWN: "input", CHECKBOX: "keydown"}


def _step(control: Control, target, page, index: int, step: int) -> str:
    """Move ``control`` one step (+1 / -1), to ``index``; return what was done."""
    if control.kind == SLIDER:
        key = "ArrowRight" if step > 0 else "ArrowLeft"
        target.focus()
        page.keyboard.press(key)
        return key
    if control.kind == CHECKBOX:
        target.focus()
        page.keyboard.press("Space")
        return "Space"
    # A <select> is set the way a mouse user picks an option. ArrowDown / ArrowUp on a focused,
    # closed <select> never reach it in JupyterLab 4.6: the notebook takes them and the active
    # cell moves (measured here; jupyter-widgets/ipywidgets#3912, open).
    target.select_option(index=int(index))
    return f"option {int(index)}"


def _move_control(control: Control, cell, page, canvas, status_bar, deadline: Deadline) -> dict:
    """Move one control MOVES times, timing each input -> changed pixels; put it back."""
    exact = re.compile(rf"^\s*{re.escape(control.label)}\s*$")
    if control.kind == CHECKBOX:  # ipywidgets 8: the description is the label of the box
        box = cell.locator(".widget-checkbox").filter(has=page.locator("label", has_text=exact))
    else:
        box = cell.locator(".widget-inline-hbox").filter(
            has=page.locator(".widget-label", has_text=exact)
        )
    assert box.count() == 1, f"expected exactly one control labelled {control.label!r}"
    if control.kind == CHECKBOX:
        target = box.locator("input[type=checkbox]")
        value = lambda: str(target.is_checked())  # noqa: E731
    elif control.kind == SLIDER:
        target, readout = box.locator(".noUi-handle"), box.locator(".widget-readout")
        value = lambda: readout.text_content().strip()  # noqa: E731
    elif control.kind == DROPDOWN:
        target = box.locator("select")
        value = lambda: target.input_value()  # noqa: E731
    else:
        raise ValueError(f"{control.label}: unknown kind {control.kind!r}")
    assert target.count() == 1, f"{control.label}: no single {control.kind} in its widget"
    disabled = box.evaluate("b => !!b.querySelector('[disabled]')")
    assert not disabled, f"{control.label} is disabled: the row cannot move it"

    start = value()
    values, times, changed, check_ms = [start], [], [], []
    net = last = 0
    for move in range(MOVES):
        _wait_ready(page, canvas, status_bar, deadline, f"before {control.label} move {move + 1}")
        # Towards the middle of the range (at the middle: back the other way): never off the end.
        position, top = target.evaluate(POSITION_JS)
        step = +1 if 2 * position < top else -1 if 2 * position > top else -last or +1
        before = value()
        canvas.evaluate("(c, ms) => window.__courseTest.arm(c, ms)", deadline.ms(MOVE_TIMEOUT))
        how = _step(control, target, page, position + step, step)
        result = page.evaluate("() => window.__courseTest.pending")
        after = value()
        where = f"{control.label} move {move + 1} ({how}, {before} -> {after})"
        assert after != before, f"{where}: the control's value did not change"
        assert not result.get("early"), f"{where}: the canvas changed before the move"
        assert result["ms"] is not None, (
            f"{where}: canvas pixels did not change within {MOVE_TIMEOUT:.0f} s"
            if result.get("pressed")
            else f"{where}: the page saw no {CAUSE[control.kind]}"
        )
        assert result["cause"] == CAUSE[control.kind], f"{where}: timed from {result['cause']!r}"
        times.append(result["ms"])
        changed.append(result["changed"])
        check_ms.append(result["checkMs"])
        values.append(after)
        net, last = net + step, step

    # Put the control back, so every control starts from the notebook's own state (a scheme
    # other than "normal", say, disables the std slider).
    if net:
        position, _ = target.evaluate(POSITION_JS)
        for i in range(1, abs(net) + 1):
            back = -1 if net > 0 else +1
            _step(control, target, page, position + i * back, back)
    _wait_ready(page, canvas, status_bar, deadline, f"after putting {control.label} back")
    assert value() == start, f"{control.label} did not go back to {start} (at {value()})"
    return {
        "ms": times,
        "p50": statistics.median(times),
        "changed": changed,
        "check_ms": check_ms,
        "values": values,
    }


def _wait_ready(page, canvas, status_bar, deadline: Deadline, when: str):
    """Wait until the kernel is idle and the canvas has not changed for SETTLE_QUIET s.

    The kernel is asked again after the quiet spell: a move can reach the kernel (busy)
    after the first check, and its frame comes before the kernel reports idle again.
    """
    end = time.monotonic() + deadline.seconds(2 * SETTLE_TIMEOUT)
    while True:
        status_bar.get_by_text(IDLE).wait_for(timeout=deadline.ms(30))
        settled = canvas.evaluate(
            "(c, a) => window.__courseTest.settle(c, a[0], a[1])",
            [1000 * SETTLE_QUIET, deadline.ms(SETTLE_TIMEOUT)],
        )
        if not settled["settled"]:
            pytest.fail(f"canvas still changing after {settled['ms'] / 1000:.0f} s ({when})")
        if status_bar.get_by_text(IDLE).count():
            return
        if time.monotonic() > end:
            pytest.fail(f"kernel and canvas never both at rest ({when})")


def _targets(results: dict) -> str:
    def verdict(control, target):
        p50 = results[control]["p50"]
        return f"{control.label} {p50:.0f} {'ok' if p50 <= target else 'MISSED'}"

    continuous = [verdict(c, TARGET_CONTINUOUS_MS) for c in results if c.continuous]
    every = [verdict(c, TARGET_ANY_MS) for c in results]
    return (
        f"targets (for humans, not asserted): continuous controls p50 <= "
        f"{TARGET_CONTINUOUS_MS} ms: {', '.join(continuous) or 'none'} | any control p50 "
        f"<= {TARGET_ANY_MS} ms: {', '.join(every)}"
    )


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
        has_text=re.compile(rf"^\s*{menu}\s*$")
    ).click(timeout=deadline.ms(10))
    item = page.locator(f".lm-Menu li[data-command='{command}']")
    item.click(timeout=deadline.ms(10))


def _assert_no_errors(page):
    stderr = page.evaluate(STDERR_JS)
    errors = [
        text
        for text in stderr
        if "Traceback" in text or re.search(r"^\w*(Error|Exception)\b", text, re.M)
    ]
    widget_errors = page.get_by_text("Error displaying widget").count()
    if stderr:
        print("stderr outputs in the notebook:", *[s[:300] for s in stderr], sep="\n  ")
    assert not errors, "error output in the notebook:\n" + "\n---\n".join(errors)
    assert widget_errors == 0, "a widget failed to display"

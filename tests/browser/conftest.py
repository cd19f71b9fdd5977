"""Browser tests: JupyterLab in headless Chromium, driven by Playwright (make test-browser)."""


def pytest_configure(config):
    # Registered here rather than in pyproject.toml; --strict-markers needs it.
    config.addinivalue_line(
        "markers",
        "browser: end-to-end test in JupyterLab with Playwright and /usr/bin/chromium "
        "(skipped when either is missing; run with `make test-browser`)",
    )

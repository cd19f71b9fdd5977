"""Browser tests: JupyterLab in headless Chromium, driven by Playwright (make test-browser)."""

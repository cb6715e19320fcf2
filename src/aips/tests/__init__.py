"""The browser tests: Playwright drives Chromium through the real pages (`make test-browser`)."""

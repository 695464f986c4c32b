#!/usr/bin/env bash
# Test-only system dependencies: headless Chromium for the report safety tests.
# Idempotent; never fails the build by itself: the browser tests skip outside CI
# (and fail in CI) when Chromium could not be installed.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian chromium for the browser tests ..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >/tmp/cx-chromium-install.log 2>&1 \
    || echo "could not install chromium (see /tmp/cx-chromium-install.log); browser tests will skip"
else
  echo "chromium missing and not root: install Debian's chromium to run the browser tests"
fi
exit 0

# Concept Coach: `make run` opens the app, `make test` runs every test headless.
# Both create .venv and install on first use, and are safe to repeat.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TORCH_PIN := torch==2.13.0
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test test-fast bench lint screenshots system-deps clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first and pinned: on these machines 2.13.0 is a local CPU wheel, while an
# unpinned install would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(PY)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q $(TORCH_PIN)
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

# Debian packages the tests use: stockfish (label and match tests).
system-deps:
	@if command -v stockfish >/dev/null 2>&1 || [ -x /usr/games/stockfish ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "installing stockfish with apt-get"; \
		(apt-get update -qq && apt-get install -y -qq stockfish >/dev/null) || \
		echo "apt-get could not install stockfish: tests that need it will be skipped"; \
	else echo "apt-get is not available: tests that need stockfish will be skipped"; fi

run: $(STAMP)
	env -u QT_QPA_PLATFORM $(VENV)/bin/conceptcoach

test: $(STAMP) system-deps
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not slow"

bench: $(STAMP)
	$(PY) -m bench

# Rewrites docs/screenshots/ (look at every PNG before committing them).
screenshots: $(STAMP)
	CONCEPTCOACH_SCREENSHOTS=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests/test_gui_app.py tests/test_gui_discovery.py tests/test_gui_session_screenshots.py

lint: $(STAMP)
	$(VENV)/bin/ruff check core tests bench
	$(VENV)/bin/mypy core

clean-venv:
	rm -rf $(VENV)

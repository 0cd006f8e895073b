# onewindow — everything a fresh Debian machine needs is behind these targets.
# `make run` and `make test` install what is missing (quietly when nothing is), then act.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
APT_PKGS := sqlite3 fonts-wqy-zenhei swig libpcsclite-dev pcscd vsmartcard-vpcd espeak-ng alsa-utils chromium \
            postgresql
CONFIG  ?= config/district-centre.toml
PORT    ?= 8000

.PHONY: setup run test bench lint clean system-packages pcscd district

# setup also renders the simulated seat cameras' videos the configs name (derived data in ~/.cache/onewindow/camera,
# keyed by the renderer's source; quiet when they are there), so no camera, test or diagnose waits for one
setup: system-packages $(STAMP)
	@$(VPY) -m drivers.camera.simulator.prerender config/*.toml

system-packages:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@test -x $(VPY) || $(PY) -m venv $(VENV)
	@$(VPY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# the hall server (demo accounts printed) and one kiosk program with simulated devices beside it
run: setup
	$(VPY) scripts/dev-hall --config $(CONFIG) --port $(PORT)

# issue 19: a private PostgreSQL cluster under var/pg (initdb'd by scripts/district, a Unix socket in var/pg/run, no
# root, no system service: only the programs of Debian's postgresql package are used, never a cluster it may have
# made), the district service and three halls —
# district centre :8000, street centre :8010, community station :8020 — each shipping its events to it. Ctrl-C stops all.
district: setup
	$(VPY) scripts/district

# the PC/SC tests read a virtual card through a real pcscd (with vsmartcard's vpcd reader driver)
# (waits for its socket, up to 5 s, rather than for a fixed time)
pcscd:
	@pgrep -x pcscd >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO pcscd; }
	@for i in $$(seq 50); do [ -S /run/pcscd/pcscd.comm ] && exit 0; sleep 0.1; done; \
	  echo "pcscd started but /run/pcscd/pcscd.comm did not appear: the PC/SC tests will fail"; exit 1

# The suite mostly waits (server processes, simulators, a browser), so it runs in TEST_WORKERS processes
# even on 2 cores (6 ran green twice with other work loading the box to 10-14); each file stays on one worker
# (loadfile), so its module fixtures start once.
# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE=1, as in this machine's
# image): without it every worker rewrote the asserts of all 100-odd test modules again (collection 8.5 s of CPU
# instead of 4), and so did every pytest a test starts. One collection first writes them for all the workers.
TEST_WORKERS ?= 6
test: setup pcscd
	@PYTHONDONTWRITEBYTECODE= $(VPY) -m compileall -q hall_server drivers kiosk >/dev/null || true
	@PYTHONDONTWRITEBYTECODE= $(VPY) -m pytest -q --collect-only -p no:cacheprovider >/dev/null 2>&1 || true
	PYTHONDONTWRITEBYTECODE= $(VPY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

bench: setup
	$(VPY) bench/run.py
	$(VPY) bench/calling.py
	$(VPY) bench/cameras.py --write docs/benchmarks.md
	$(VPY) bench/cases.py --write docs/benchmarks.md
	$(VPY) bench/handout_devices.py --write docs/benchmarks.md
	$(VPY) bench/handout_loop_lag.py --write docs/benchmarks.md
	$(VPY) bench/stats_year.py --write docs/benchmarks.md
	$(VPY) bench/rollup_ingest.py --write docs/benchmarks.md

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf var .pytest_cache

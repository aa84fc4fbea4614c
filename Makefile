# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: constraints demo test lint typecheck pytest system-deps bench clean

# constraints.txt pins the versions the suite last passed with, so a new release upstream cannot
# break a clean clone overnight; `make constraints` refreshes it after a deliberate upgrade.
$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

constraints: $(STAMP)
	$(BIN)/pip install -q --upgrade -e '.[test]'
	{ echo "# Versions the test suite last passed with; make installs within them (pip -c). Refresh: make constraints"; \
	  $(BIN)/pip freeze --exclude-editable; } > constraints.txt

# Debian packages the tests start privately (never the machine's own services).
system-deps:
	@missing=""; \
	command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing="$$missing mosquitto"; \
	command -v mosquitto_pub >/dev/null || missing="$$missing mosquitto-clients"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v jq >/dev/null || missing="$$missing jq"; \
	command -v influxd >/dev/null || [ -x /usr/bin/influxd ] || missing="$$missing influxdb"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing="$$missing haproxy"; \
	command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || missing="$$missing nats-server"; \
	command -v ip >/dev/null || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing="$$missing iproute2"; \
	command -v nft >/dev/null || [ -x /usr/sbin/nft ] || missing="$$missing nftables"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# The demo runs a private Mosquitto with generated accounts (there is no in-process broker).
demo: $(STAMP)
	@command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || { \
	  echo "installing the Debian package mosquitto"; SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq mosquitto >/dev/null; }
	$(BIN)/marine-watch demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy risk_models sensors marine_watch tests

pytest: $(STAMP) system-deps
	PATH="$(CURDIR)/$(BIN):/usr/sbin:$$PATH" $(BIN)/pytest $(PYTEST_ARGS)

test: system-deps $(STAMP) lint typecheck pytest

bench: $(STAMP) system-deps
	@command -v wrk >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get install -y -qq wrk >/dev/null; }
	PATH="$(CURDIR)/$(BIN):/usr/sbin:$$PATH" $(BIN)/python -m benchmarks.run_all $(BENCH)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info

# cloudward: `make demo` and `make test` work on a fresh Debian machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Real parts the tests use: an OCI registry, htpasswd for its basic auth, rpm and PHP with
# composer/semver as version-ordering oracles, Go to build a real Go binary for the SBOM cataloger,
# openssl for test CAs and tokens.
DEBIAN_PACKAGES := docker-registry apache2-utils rpm php-cli php-composer-semver golang-go openssl

.PHONY: install demo test lint unit docs clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cloudward needs Python >= 3.11")'
	@if ! $(PYTHON) -m venv --help >/dev/null 2>&1 || ! $(PYTHON) -c 'import ensurepip' 2>/dev/null; then \
		echo "installing python3-venv (Debian)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; \
	fi
	@missing=""; for pkg in $(DEBIAN_PACKAGES); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: install
	@echo "== develop: cloudward scan examples/  (findings make the scan exit 1; that is expected here)"
	@$(BIN)/cloudward scan examples/ ; code=$$?; echo "exit code: $$code"; test $$code -le 1
	@echo
	@echo "== develop: the hardened example against the restricted Pod Security Standard"
	@$(BIN)/cloudward scan examples/k8s/payments-hardened.yaml --pss restricted; echo "exit code: $$?"
	@echo
	@echo "== develop: SARIF for code scanning -> cloudward.sarif"
	@$(BIN)/cloudward scan examples/ --format sarif --output cloudward.sarif ; test $$? -le 1
	@echo
	@echo "== deploy: the admission webhook's decision on a privileged Pod (offline, same code as the server)"
	@$(BIN)/cloudward admission review < examples/admission/privileged-pod.json | $(BIN)/python -c \
		'import json,sys; r=json.load(sys.stdin)["response"]; print("allowed:", r["allowed"]); print(r.get("status", {}).get("message", ""))'
	@echo
	@echo "== runtime: threats in a real Kubernetes audit log"
	@$(BIN)/cloudward detect audit examples/audit/audit.log --format table ; test $$? -le 1

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q

test: install lint unit

docs: install
	$(BIN)/cloudward rules list --format markdown --output docs/rules.md
	$(BIN)/python tools/gen_cli_doc.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache cloudward.sarif

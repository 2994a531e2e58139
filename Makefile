# The two commands that matter: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-sqlite test-postgres sandbox migrate schema clean

run: $(STAMP)
	$(BIN)/pointcharge serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(STAMP)
	POINTCHARGE_TEST_DATABASE_URL=$${POINTCHARGE_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

sandbox: $(STAMP)
	$(BIN)/pointcharge sandbox

migrate: $(STAMP)
	$(BIN)/pointcharge migrate

schema: $(STAMP)
	$(BIN)/python -m schema.export > schema.graphql

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) pointcharge.db pointcharge.db-wal pointcharge.db-shm pointcharge-sandbox.db pointcharge-sandbox.db-wal pointcharge-sandbox.db-shm test-artifacts

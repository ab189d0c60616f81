# iocz developer tasks. `make test` is what CI runs (through .ci/run).
PYTHON ?= python3
PIP := $(PYTHON) -m pip
# Python dependencies: pyproject.toml's runtime list and every pinned extra (engines, notebook,
# test, dev). Spark also needs Java 17 (.ci/run installs it).
PY_REQUIREMENTS := $(PYTHON) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	print("\n".join(p["dependencies"] + sum(p["optional-dependencies"].values(), [])))'
PY_PATHS := python tests benches fuzz examples

.PHONY: deps build test test-rust test-python fuzz bench bench-wheel check demo clean

deps:
	$(PY_REQUIREMENTS) | $(PIP) install -q -r /dev/stdin

# Release build of the extension (tfhe is unusably slow unoptimised), installed into $(PYTHON).
build: deps
	rm -rf dist
	$(PYTHON) -m maturin build --release --out dist
	$(PIP) install -q --force-reinstall --no-deps dist/iocz-*.whl

test-rust:
	cargo test --release

test-python: build
	$(PYTHON) -m pytest -q

# Fuzz every decoder of outside input (fuzz/fuzz_decoders.py); new inputs go to a temporary
# folder, fuzz/corpus holds the seeds. FUZZ_RUNS=-1 FUZZ_ARGS=-max_total_time=600 for a long run.
FUZZ_RUNS ?= 30000
FUZZ_ARGS ?=
fuzz: build
	tmp=$$(mktemp -d) && $(PYTHON) fuzz/fuzz_decoders.py -runs=$(FUZZ_RUNS) $(FUZZ_ARGS) $$tmp fuzz/corpus; \
	rc=$$?; rm -rf $$tmp; exit $$rc

test: test-rust test-python fuzz

bench:
	cargo bench --bench kernels

# The wheel the Python benchmarks (benches/*.py) need: production plus the bench-only bindings.
bench-wheel: deps
	rm -rf dist-bench
	$(PYTHON) -m maturin build --release --features bench-bindings --out dist-bench
	$(PIP) install -q --force-reinstall --no-deps dist-bench/iocz-*.whl

# Clippy keeps a target folder of its own: its build scripts run without maturin's environment,
# so sharing one folder would make each tool rebuild pyo3 and Polars after the other.
CLIPPY_TARGET := $(or $(CARGO_TARGET_DIR),target)/clippy

# Lint and type checks (stubtest compares _iocz.pyi with the installed build).
check: build
	cargo fmt --check
	cargo clippy --release --all-targets --features bench-bindings --target-dir $(CLIPPY_TARGET) -- -D warnings
	$(PYTHON) -m ruff check $(PY_PATHS)
	$(PYTHON) -m ruff format --check $(PY_PATHS)
	$(PYTHON) -m mypy --strict python/iocz
	$(PYTHON) -m mypy.stubtest iocz._iocz --allowlist stubtest-allowlist.txt

demo: build
	iocz demo

clean:
	rm -rf dist dist-bench target

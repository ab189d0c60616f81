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

# maturin's pyo3 settings (its build scripts read them), for the other cargo commands: with the
# same settings and features, `cargo test` and clippy reuse the extension build's pyo3, Polars
# and tfhe instead of building them again (a cold CI run builds them once). maturin writes the
# config file during `make build`.
TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))
PY_EXE := $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
PYO3_ENV = PYO3_BUILD_EXTENSION_MODULE=1 \
	PYO3_CONFIG_FILE=$(firstword $(wildcard $(TARGET_DIR)/maturin/pyo3-config-*-abi3.txt)) \
	PYO3_ENVIRONMENT_SIGNATURE=$(shell $(PYTHON) -c 'import struct, sys; v = sys.version_info; \
		print("%s-%d.%d-%dbit" % (sys.implementation.name, v[0], v[1], struct.calcsize("P") * 8))') \
	PYO3_PYTHON=$(PY_EXE) PYTHON_SYS_EXECUTABLE=$(PY_EXE)

# The Rust tests, built with the extension's features (the Python bindings compile with them).
test-rust: build
	$(PYO3_ENV) cargo test --release --features python

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

# Lint and type checks (stubtest compares _iocz.pyi with the installed build).
check: build
	cargo fmt --check
	$(PYO3_ENV) cargo clippy --release --all-targets --features bench-bindings -- -D warnings
	$(PYTHON) -m ruff check $(PY_PATHS)
	$(PYTHON) -m ruff format --check $(PY_PATHS)
	$(PYTHON) -m mypy --strict python/iocz
	$(PYTHON) -m mypy.stubtest iocz._iocz --allowlist stubtest-allowlist.txt

demo: build
	iocz demo

clean:
	rm -rf dist dist-bench target

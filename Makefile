# iocz developer tasks. `make test` is what CI runs (through .ci/run).
PYTHON ?= python3
PIP := $(PYTHON) -m pip
# Pinned Python dependencies of the build and the tests.
PY_DEPS := "maturin>=1.8,<2" "polars==2.1.0" "stix2>=3.0.2,<4" "tqdm>=4.66,<5" "pytest>=8"

.PHONY: deps build test test-rust test-python bench check demo clean

deps:
	$(PIP) install -q $(PY_DEPS)

# Release build of the extension (tfhe is unusably slow unoptimised), installed into $(PYTHON).
build: deps
	rm -rf dist
	$(PYTHON) -m maturin build --release --out dist
	$(PIP) install -q --force-reinstall --no-deps dist/iocz-*.whl

test-rust:
	cargo test --release

test-python: build
	$(PYTHON) -m pytest -q

test: test-rust test-python

bench:
	cargo bench --bench kernels

check:
	cargo fmt --check
	cargo clippy --release --all-targets --features python -- -D warnings
	$(PYTHON) -m compileall -q python tests

demo: build
	iocz demo

clean:
	rm -rf dist target

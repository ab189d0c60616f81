# iocz developer tasks. `make test` is what CI runs (through .ci/run).
PYTHON ?= python3
PIP := $(PYTHON) -m pip
# Pinned Python dependencies of the build and the tests.
PY_DEPS := "maturin>=1.8,<2" "polars==2.1.0" "stix2>=3.0.2,<4" "tqdm>=4.66,<5" "pytest>=8" "hypothesis>=6.100" "atheris>=2.3"

.PHONY: deps build test test-rust test-python fuzz bench check demo clean

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

check:
	cargo fmt --check
	cargo clippy --release --all-targets --features python -- -D warnings
	$(PYTHON) -m compileall -q python tests

demo: build
	iocz demo

clean:
	rm -rf dist target

# The two commands of the README: `make demo` and `make test`. Both run setup first.
JOBS ?= $(shell nproc)
BUILD ?= build
TEST_BUILD ?= build-test

.PHONY: setup build build-test demo test bench clean

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DTETHER_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Tests are built with clang, AddressSanitizer and UBSan, plus the libFuzzer targets.
build-test: setup
	@cmake -S . -B $(TEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_CXX_COMPILER=clang++ -DTETHER_SANITIZE=ON -DTETHER_FUZZ=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)/src/cli/tether

test: build-test
	@cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

clean:
	rm -rf $(BUILD) $(TEST_BUILD)

# ocp-nvme: the two commands are `make demo` (main job) and `make check`
# (every test).  QEMU is built outside the repository, in
# $(OCP_NVME_CACHE) (default ~/.cache/ocp-nvme); build/qemu-system-x86_64
# links to it.

PYTHON ?= python3
QEMU_BUILD = build/qemu-tree/build

.PHONY: all qemu check test-engine test-qemu test-guest patches demo bench bench-cost bench-engine clean help

all: qemu

help:
	@echo "make demo     build what is missing, start QEMU with -device ocp-nvme"
	@echo "make check    run every test (cargo, qtest, patch series)"
	@echo "make qemu     build the patched QEMU (build/qemu-system-x86_64)"
	@echo "make patches  write the upstreamable patch series to out/patches"
	@echo "make bench    fio in the TCG guest: ocp-nvme vs nvme vs virtio-blk"
	@echo "make bench-cost    instructions per I/O (callgrind): ocp-nvme vs nvme vs virtio-blk"
	@echo "make bench-engine  the engine alone: commands per second per core"

qemu:
	$(PYTHON) scripts/qemu-tree.py

check: test-engine test-qemu test-guest patches
	@echo "make check: all tests passed"

# The stress harness gets 60 s (optimized build); a failing seed is printed
# with the variable that reproduces it.
STRESS_SECS ?= 60

test-engine:
	python3 hw-ocp-nvme/engine/tools/import-graph.py hw-ocp-nvme/engine/src >/dev/null
	cargo test --quiet
	OCP_NVME_STRESS_SECS=$(STRESS_SECS) cargo test --release --quiet --test stress -- --nocapture
	cargo check --quiet -p ocp-nvme-engine-fuzz --bins
	cargo clippy --quiet -p ocp-nvme-engine-bench -- -D warnings
	cargo clippy --all-targets --quiet -- -D warnings
	cargo fmt --all --check

# The crates of QEMU's tree that the series adds or extends.
QEMU_RUST_FILES = hw-ocp-nvme/src/*.rs rust/hw/core/src/*.rs rust/system/src/*.rs \
  rust/util/src/*.rs rust/qom/src/*.rs rust/block/src/*.rs

test-qemu:
	$(PYTHON) scripts/qemu-tree.py --targets qemu-system-x86_64 tests/qtest/ocp-nvme-test \
	  rust/hw/core/rust-hwcore-tests rust/system/rust-system-tests rust/block/rust-block-tests \
	  rust/util/rust-util-tests rust/hw/core/rust-hwcore-rs-integration rust/tests/rust-integration
	scripts/run-qtests.sh
	scripts/clippy-qemu.sh
	rustfmt --edition 2021 --check $(QEMU_RUST_FILES)

# Linux guest (kernel, busybox, nvme-cli, fio from Debian packages) under TCG.
# Every case on the default drive (OCP 2.7), then the OCP cases (nvme-cli
# 2.13 and 2.16) on drives with ocp-version=2.5 and 2.6, then I/O, resets
# and NSSR with the SQ doorbells on ioeventfds, then every case with the
# I/O queues in an IOThread; live migration and snapshots without and with
# the IOThread.
test-guest: qemu
	tests/guest/run-tests.sh
	tests/guest/run-tests.sh --ocp-version 2.5 ocp
	tests/guest/run-tests.sh --ocp-version 2.6 ocp
	tests/guest/run-tests.sh --props ioeventfd=on fio-verify deep-queue smart-reset nssr
	tests/guest/run-tests.sh --iothread
	tests/guest/migrate-tests.sh
	tests/guest/migrate-tests.sh --iothread
	tests/guest/state-tests.sh
	tests/guest/ns-state-tests.sh
	tests/guest/sanitize-restart-test.sh

bench: qemu
	tests/guest/bench.sh

# The device's cost per I/O: instructions counted by callgrind (valgrind)
# with a qtest driver instead of a guest (out/bench-cost.md).
bench-cost: qemu
	tests/guest/bench-cost.py

# The engine alone, in process: commands per second on one core.
bench-engine:
	cargo run --release --quiet -p ocp-nvme-engine-bench

patches:
	$(PYTHON) scripts/qemu-tree.py --no-build
	scripts/make-patches.sh out/patches

demo:
	scripts/demo.sh

clean:
	rm -rf build out target

# The two commands of README.md, and what they need. Run as root on Debian bookworm.
SWIFT ?= swift
APT_PACKAGES := libnl-3-dev libnl-route-3-dev pkg-config iproute2 nftables ethtool tcpdump iputils-ping iputils-arping socat util-linux systemd python3 python3-pip
# The tests check causewayctl's metrics with Prometheus's own parser, and the handshake
# against an independent Noise implementation (noiseprotocol), both kept inside .build.
PYTHON_PACKAGES := prometheus-client==0.26.0 noiseprotocol==0.3.1 cryptography==50.0.2 cffi==2.1.1 pycparser==3.12
PYTHON_DIR := .build/python

.PHONY: all deps build release deb test unit-test netns-test fuzz fuzz-build fuzz-ci demo bench bench-sites clean

# The one place for the version is CausewayVersion.current, which causewayd --version prints;
# the Debian package takes it from there.
VERSION := $(shell sed -n 's/.*current = "\(.*\)".*/\1/p' Sources/CausewayCore/Version.swift)
DEB := .build/causeway_$(VERSION)_$(shell dpkg --print-architecture).deb
# dpkg-shlibdeps (and strip) for the package; man for the man-page test.
DEB_PACKAGES := dpkg-dev
TEST_PACKAGES := man-db
# promtool, to check deploy/monitoring's alert rules: taken out of Debian's prometheus
# package into .build, not installed, since installing it starts a Prometheus server.
PROMTOOL := .build/prometheus/usr/bin/promtool

all: build

# The tunnels the benchmark compares Causeway with, and its load generator. Installed without
# their recommends: wireguard-tools' would bring a Linux kernel image, which wireguard-go
# (userspace) has no use for.
BENCH_PACKAGES := iperf3 openvpn openssl tinc vtun n2n wireguard-go wireguard-tools
# The benchmark's chart: matplotlib and what it needs, pinned, kept inside .build like the
# tests' Python packages.
BENCH_PYTHON_PACKAGES := matplotlib==3.11.2 contourpy==1.3.3 cycler==0.12.1 fonttools==4.68.0 kiwisolver==1.5.1 \
	numpy==2.4.6 packaging==26.4 pillow==13.0.0 pyparsing==3.3.3 python-dateutil==4.0.0 tzdata==2026.6

# $(call apt_install,PACKAGES[,APT-GET OPTIONS]): installs those not installed yet, so a
# machine that has everything stays offline.
define apt_install
	@missing=$$(for package in $(1); do dpkg -s $$package >/dev/null 2>&1 || echo $$package; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) $$missing >/dev/null; \
	fi
endef

deps:
	$(call apt_install,$(APT_PACKAGES))
	@PYTHONPATH=$(PYTHON_DIR) python3 -c 'import prometheus_client, noise' 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target $(PYTHON_DIR) $(PYTHON_PACKAGES)

build: deps
	$(SWIFT) build

test: unit-test fuzz-ci netns-test

unit-test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	# Nothing per frame allocates: counted in a release build, as the daemon ships.
	$(SWIFT) build -c release --build-tests -Xswiftc -enable-testing
	$(SWIFT) test -c release --skip-build --filter AllocationTests
	PYTHONPATH=$(PYTHON_DIR) python3 Tests/noise/interop.py --check Tests/CausewayCoreTests/Vectors/noise-ikpsk2.json

# libFuzzer targets (Tests/Fuzz): built apart, in their own scratch directory, with the
# fuzzer's instrumentation and its main; each runs FUZZ_SECONDS from the committed seeds and
# any crash fails. See docs/architecture.md, "Fuzzing". AddressSanitizer and the debug
# assertion configuration: an optimized build checks no bounds of an unsafe buffer, and the
# frame path is made of them.
FUZZ_TARGETS := fuzz-datagram fuzz-frame fuzz-handshake fuzz-reassembly fuzz-config fuzz-control
FUZZ_SECONDS ?= 10
FUZZ_BUILD := .build/fuzz
FUZZ_FLAGS := -c release --scratch-path $(FUZZ_BUILD) -Xswiftc -sanitize=fuzzer,address -Xswiftc -assert-config -Xswiftc Debug \
	-Xswiftc -D -Xswiftc FUZZING

fuzz-build:
	@for target in $(FUZZ_TARGETS); do $(SWIFT) build $(FUZZ_FLAGS) --product $$target || exit 1; done

fuzz: fuzz-build
	bash Tests/Fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BUILD) "$$($(SWIFT) build $(FUZZ_FLAGS) --show-bin-path)" $(FUZZ_TARGETS)

# What `make test` runs: about a minute of fuzzing in all.
fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=8

# Self-contained release binaries (--static-swift-stdlib): a gateway needs no Swift toolchain.
release: deps
	bash deploy/build-release.sh

deb: deps
	$(call apt_install,$(DEB_PACKAGES))
	bash deploy/deb/build.sh $(VERSION) "$$(bash deploy/build-release.sh)" .build

$(PROMTOOL):
	@mkdir -p .build/prometheus-deb
	@cd .build/prometheus-deb && { apt-get download -qq prometheus 2>/dev/null || { apt-get update -qq && apt-get download -qq prometheus 2>/dev/null; }; }
	dpkg -x .build/prometheus-deb/prometheus_*.deb .build/prometheus

netns-test: build deb $(PROMTOOL)
	$(call apt_install,$(TEST_PACKAGES))
	DEB=$(CURDIR)/$(DEB) PROMTOOL=$(CURDIR)/$(PROMTOOL) bash Tests/netns/run.sh

demo: build
	bash examples/demo.sh

# Not part of `make test`: throughput is measured, never asserted (see docs/performance.md).
# Every tunnel (or those in TUNNELS), twice in one sitting; DURATION (10) and RUNS (2) from
# the environment. Results in .build/bench/latest/: report.txt, run-N.json, chart.png.
bench: deps
	$(call apt_install,$(BENCH_PACKAGES),--no-install-recommends)
	@PYTHONPATH=$(PYTHON_DIR) python3 -c 'import matplotlib' 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target $(PYTHON_DIR) $(BENCH_PYTHON_PACKAGES)
	$(SWIFT) build -c release --product causewayd
	$(SWIFT) build -c release --product causewayctl
	bash Benchmarks/run.sh $(TUNNELS)

# What more sites cost: 2, 4 and 8 sites in a mesh (Benchmarks/sites.sh). Not in make test.
bench-sites: deps
	$(call apt_install,iperf3)
	$(SWIFT) build -c release --product causewayd
	$(SWIFT) build -c release --product causewayctl
	bash Benchmarks/sites.sh

clean:
	rm -rf .build

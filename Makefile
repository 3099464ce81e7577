# The two commands of README.md, and what they need. Run as root on Debian bookworm.
SWIFT ?= swift
APT_PACKAGES := libnl-3-dev libnl-route-3-dev pkg-config iproute2 tcpdump iputils-ping iputils-arping socat util-linux systemd python3 python3-pip
# The tests check causewayctl's metrics with Prometheus's own parser, kept inside .build.
PYTHON_PACKAGES := prometheus-client==0.26.0
PYTHON_DIR := .build/python

.PHONY: all deps build test unit-test netns-test demo clean

all: build

# Installs only what is missing, so a machine that has everything stays offline.
deps:
	@missing=$$(for package in $(APT_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || echo $$package; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@PYTHONPATH=$(PYTHON_DIR) python3 -c 'import prometheus_client' 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target $(PYTHON_DIR) $(PYTHON_PACKAGES)

build: deps
	$(SWIFT) build

test: unit-test netns-test

unit-test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

netns-test: build
	bash Tests/netns/run.sh

demo: build
	bash examples/demo.sh

clean:
	rm -rf .build

# The two commands: `make run` and `make test`. Everything else is a helper they use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

help:
	@echo "make run    build (release), start PostgreSQL, migrate, serve through nginx at http://127.0.0.1:8001"
	@echo "make test   build and run every test against a real PostgreSQL and nginx"
	@echo "make cluster  two pool hosts, PostgreSQL with failover, nginx at http://127.0.0.1:8002 (root; make cluster-down)"

run:
	@scripts/run

test:
	@scripts/test

build:
	swift build -c release

# Benchmarks (README "Performance"): reports, never fails on speed.
bench:
	@scripts/bench

# Several hosts on this machine (README "Several hosts"; root: network namespaces): two pool hosts, a primary and a
# synchronous standby under pg_auto_failover, nginx at http://127.0.0.1:8002, until Ctrl-C or make cluster-down.
cluster:
	@scripts/cluster up

cluster-down:
	@scripts/cluster down

# make bench's /me and login against the cluster, with one and with two pool hosts.
bench-cluster:
	@scripts/bench-cluster

# Deployment (docs/deploy.md): PREFIX=/usr/local by default; DESTDIR stages a tree.
install: build
	@scripts/install install

uninstall:
	@scripts/install uninstall

deb:
	@scripts/build-deb

# A real dpkg -i / dpkg -r / dpkg -P round trip on this machine (changes the system: run by hand).
check-deb: deb
	@scripts/check-deb

.PHONY: help run test build bench cluster cluster-down bench-cluster install uninstall deb check-deb

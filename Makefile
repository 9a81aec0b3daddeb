# snapkeeper — the commands people and CI run.
#
#   make test       provision the test environment, build, type-check, run every suite
#   make demo       a local backup of a throwaway PostgreSQL into ./backups
#   make testenv    only provision (Debian packages, Go-built servers, OpenSearch)
#   make images     build the container images (needs a container engine)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
IMAGE_REPO ?= ghcr.io/snapkeeper
IMAGE_TAG ?= $(shell node -p "require('./package.json').version")

.PHONY: all build test test-unit testenv lint typecheck demo images clean

all: build

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

build: node_modules/.package-lock.json
	npm run build

typecheck: node_modules/.package-lock.json
	npx tsc --noEmit

lint: node_modules/.package-lock.json
	npx eslint .
	npx prettier --check .

testenv:
	test/env/provision.sh

test: testenv build typecheck lint
	npx vitest run

test-unit: node_modules/.package-lock.json
	npx vitest run --project unit

demo: build
	test/env/provision.sh apt
	scripts/demo.sh

clean:
	rm -rf dist coverage

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

# Container images, from the repository root. CONTAINER_ENGINE: docker or podman
# (default: whichever is installed); PLATFORM, e.g. linux/arm64, to cross-build;
# IMAGE_BUILD_ARGS: more arguments for every build, e.g. a local base image
# (--build-arg NODE_IMAGE=...) where no registry is reachable (docs/install.md).
IMAGES := operator dumper-postgresql dumper-mysql dumper-mariadb dumper-elasticsearch
images:
	@engine="$${CONTAINER_ENGINE:-$$(command -v docker || command -v podman || true)}"; \
	if [ -z "$$engine" ]; then echo "make images: no docker or podman found (set CONTAINER_ENGINE)" >&2; exit 1; fi; \
	for image in $(IMAGES); do \
	  echo "building $(IMAGE_REPO)/$$image:$(IMAGE_TAG)"; \
	  "$$engine" build $(if $(PLATFORM),--platform $(PLATFORM)) $(IMAGE_BUILD_ARGS) \
	    -f images/$$image.Dockerfile -t $(IMAGE_REPO)/$$image:$(IMAGE_TAG) . ; \
	done

clean:
	rm -rf dist coverage

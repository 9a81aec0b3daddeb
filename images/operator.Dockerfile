# syntax=docker/dockerfile:1
# The operator: `snapkeeper operator`. Build from the repository root:
#   docker build -f images/operator.Dockerfile -t ghcr.io/snapkeeper/operator:dev .
# Multi-arch: only official multi-arch base images, no downloads.
ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: the same dist/cli.js and production node_modules in every image ---
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY dumpers ./dumpers
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime ---
FROM ${NODE_IMAGE}
ENV NODE_ENV=production HOME=/tmp
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Numeric, so runAsNonRoot can verify it; writes nothing outside /tmp, so it
# runs with a read-only root filesystem.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["operator"]

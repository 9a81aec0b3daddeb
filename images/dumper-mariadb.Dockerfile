# syntax=docker/dockerfile:1
# MariaDB dumper: `snapkeeper dump` with mariadb-dump from Debian's
# mariadb-client (multi-arch distro packages).
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
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates mariadb-client zstd; \
    rm -rf /var/lib/apt/lists/*; \
    mariadb-dump --version; \
    zstd --version
ENV NODE_ENV=production HOME=/tmp
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["dump"]

# syntax=docker/dockerfile:1
# MariaDB dumper: `snapkeeper dump` with mariadb-dump from Debian's
# mariadb-client (multi-arch distro packages), and mariadb-server-core's
# mariadbd and mariadb-install-db for `snapkeeper restore-test`: it starts a
# scratch server of its own under /tmp as uid 65532 (the server core only: no
# service scripts, no Galera, no data directory made at install).
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
    apt-get install -y --no-install-recommends ca-certificates mariadb-client mariadb-server-core zstd; \
    rm -rf /var/lib/apt/lists/*; \
    mariadb-dump --version; \
    mariadbd --version; \
    command -v mariadb-install-db; \
    zstd --version; \
    groupadd --gid 65532 snapkeeper; \
    useradd --uid 65532 --gid 65532 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin snapkeeper
ENV NODE_ENV=production HOME=/tmp
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["dump"]

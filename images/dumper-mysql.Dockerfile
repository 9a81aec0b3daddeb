# syntax=docker/dockerfile:1
# MySQL dumper: `snapkeeper dump` with Oracle's MySQL 8.x mysqldump. Debian
# ships no Oracle MySQL, so the runtime is the official multi-arch MySQL image
# (Oracle Linux 9) with Node.js from Oracle Linux's AppStream; only its client
# tools are used (the entrypoint replaces mysqld's).
ARG NODE_IMAGE=node:22-bookworm-slim
ARG MYSQL_IMAGE=mysql:8.4

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
FROM ${MYSQL_IMAGE}
RUN set -eux; \
    microdnf -y module enable nodejs:22; \
    microdnf -y install nodejs zstd; \
    microdnf clean all; \
    node --version; \
    mysqldump --version; \
    zstd --version
ENV NODE_ENV=production HOME=/tmp
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["dump"]

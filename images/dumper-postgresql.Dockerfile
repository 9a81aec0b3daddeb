# syntax=docker/dockerfile:1
# PostgreSQL dumper: `snapkeeper dump` with pg_dump / pg_dumpall from the
# PostgreSQL project's own Debian repository (PGDG, multi-arch), newest major
# first: a newer pg_dump reads older servers. Add older majors for the
# `snapkeeper.io/version` override with --build-arg PG_MAJORS="18 16"; each
# lands in /usr/lib/postgresql/<major>/bin, the first one is on PATH.
# Where PGDG cannot be reached (a mirror of Debian only), build with
# --build-arg PG_APT_SOURCE=debian --build-arg PG_MAJORS=15: Debian 12's own
# postgresql-client-15.
# The newest major's server (initdb, postgres) is there too, for
# `snapkeeper restore-test`: it starts a scratch server of its own under /tmp
# as uid 65532 (no cluster is created at install; no locale but C/C.UTF-8).
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
ARG PG_MAJORS=18
ARG PG_APT_SOURCE=pgdg
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates postgresql-common zstd; \
    sed -ri 's/^#?(create_main_cluster) .*$/\1 = false/' /etc/postgresql-common/createcluster.conf; \
    case "${PG_APT_SOURCE}" in \
      pgdg) /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y ;; \
      debian) ;; \
      *) echo "PG_APT_SOURCE: pgdg or debian, not ${PG_APT_SOURCE}" >&2; exit 1 ;; \
    esac; \
    newest=$(echo ${PG_MAJORS} | cut -d' ' -f1); \
    pkgs="postgresql-$newest"; for m in ${PG_MAJORS}; do pkgs="$pkgs postgresql-client-$m"; done; \
    apt-get install -y --no-install-recommends $pkgs; \
    rm -rf /var/lib/apt/lists/*; \
    test ! -e "/etc/postgresql/$newest/main"; \
    ln -s /usr/lib/postgresql/$newest/bin /usr/local/lib/pg-bin; \
    /usr/local/lib/pg-bin/pg_dump --version; \
    /usr/local/lib/pg-bin/initdb --version; \
    /usr/local/lib/pg-bin/postgres --version; \
    zstd --version; \
    groupadd --gid 65532 snapkeeper; \
    useradd --uid 65532 --gid 65532 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin snapkeeper
ENV PATH=/usr/local/lib/pg-bin:$PATH NODE_ENV=production HOME=/tmp
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["dump"]

# A PostgreSQL 15 server from Debian's packages, for the e2e suite's
# StatefulSet. Reads POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB like the
# official image (the names snapkeeper resolves credentials by); data in
# /var/lib/postgresql/data (an emptyDir).
ARG BASE_IMAGE=snapkeeper.local/bookworm:base
FROM ${BASE_IMAGE}
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15; \
    rm -rf /var/lib/apt/lists/*; \
    /usr/lib/postgresql/15/bin/postgres --version
COPY postgresql-entrypoint.sh /usr/local/bin/entrypoint
USER postgres
ENTRYPOINT ["/usr/local/bin/entrypoint"]

# A MariaDB 10.11 server from Debian's packages, for the e2e suite's
# Deployment. Reads MARIADB_ROOT_PASSWORD (and MARIADB_DATABASE) like the
# official image; data in /var/lib/mysql/data (an emptyDir).
ARG BASE_IMAGE=snapkeeper.local/bookworm:base
FROM ${BASE_IMAGE}
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server; \
    rm -rf /var/lib/apt/lists/*; \
    mariadbd --version
COPY mariadb-entrypoint.sh /usr/local/bin/entrypoint
USER mysql
ENTRYPOINT ["/usr/local/bin/entrypoint"]

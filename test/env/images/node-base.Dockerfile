# The e2e suite's stand-in for node:22-bookworm-slim, where no registry can be
# pulled from: the debootstrap'd bookworm base with the host's Node.js and npm
# (engines: node >= 20.18), and the host's CA bundle for npm, because the
# package registry is reached through this machine's TLS interception.
# test/env/images.sh builds it; the product's Dockerfiles take it as NODE_IMAGE.
ARG BASE_IMAGE=snapkeeper.local/bookworm:base
FROM ${BASE_IMAGE}
COPY build-ca.pem /usr/local/share/snapkeeper/build-ca.pem
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/snapkeeper/build-ca.pem
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN set -eux; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \
    node --version; npm --version

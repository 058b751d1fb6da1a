# syntax=docker/dockerfile:1
# sessiond's container image.
#
#   docker build -t sessiond .
#   docker run --read-only -p 3000:3000 -v sessiond-data:/data sessiond
#   docker compose up --build          # with PostgreSQL and Redis (compose.yaml)
#
# Base images cannot be pulled on the machines that test sessiond, so the build stage is one script,
# scripts/production-install.sh, which CI runs without Docker from a fresh copy and then checks the
# installed tree read-only as an unprivileged user (packages/server/test/deploy/production-install.test.ts).
ARG NODE_VERSION=22

# Build stage: development dependencies, the compilers, the build; then production dependencies
# only, installed into /app (native addons are compiled here, where the toolchain is).
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
RUN scripts/production-install.sh /app

# Runtime stage: compiled JavaScript and production dependencies, owned by root and run as the
# unprivileged `node` user, so the tree cannot be changed by the service; it writes only to /data,
# and works with a read-only root file system (`docker run --read-only`, `read_only: true`).
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
WORKDIR /app
ENV DATA_DIR=/data HOST=0.0.0.0 PORT=3000
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, no shell: node is PID 1 and receives SIGTERM itself (`docker stop`); it installs its
# own handlers (drain, close the pools, exit 0), so PID 1's ignore-by-default does not apply. With
# WORKERS=N the primary forwards the signal and waits for its workers. `docker run --init` (tini)
# is not needed, and harmless.
ENTRYPOINT ["node", "/app/packages/server/bin/sessiond.js"]
CMD ["serve"]

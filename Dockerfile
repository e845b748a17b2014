# syntax=docker/dockerfile:1
# The one image of qinling-jobs: `api`, `operator` and `invoke` are its commands
# (the chart passes one as the container's args). What /app holds is exactly `npm pack` of the
# build plus the production dependencies the lockfile pins; packaging/image.test.ts guards that.
# The Node.js line and Debian release match package.json's pinned toolchain (docs/adr/0007-node-26.md).
ARG NODE_VERSION=26.10.0

FROM docker.io/library/node:${NODE_VERSION}-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json README.md ./
COPY cli.ts ./
COPY lib lib
COPY domain domain
COPY kube kube
COPY api api
COPY operator operator
RUN npx tsc -p tsconfig.build.json \
 && npm pack --pack-destination /tmp \
 && mkdir /pkg \
 && tar -xzf /tmp/qinling-jobs-*.tgz -C /pkg --strip-components=1 \
 && cp package-lock.json /pkg/ \
 && cd /pkg \
 && npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && rm package-lock.json

# Debian 13 with Node 26 and nothing else: no shell, no package manager, user 65532.
FROM gcr.io/distroless/nodejs26-debian13:nonroot
WORKDIR /app
COPY --from=build /pkg /app
USER 65532:65532
ENV NODE_ENV=production
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli.js"]
CMD ["help"]

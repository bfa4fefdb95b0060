# Parley's image: built in one stage, run from a slim one as the unprivileged `node` user, with
# telemetry preloaded as `npm start` does. Node.js 26, the newest long-term line Parley supports.
FROM node:26-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The sources come after the packages (a layer that changes less): `prepare`'s build waits for them.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY plugins plugins
COPY otel otel
COPY bench bench
COPY scripts scripts
COPY web web
RUN npm run build && npm prune --omit=dev

FROM node:26-bookworm-slim
# Everything the app writes is under folders the node user owns (/app is root's): the weekly
# reports too.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/var/lib/parley LOG_DIR=/var/log/parley REPORTS_DIR=/var/lib/parley/reports
WORKDIR /app
COPY package.json ./
COPY docs docs
# The search's word vectors are data, read from the source tree (src/search/word-vectors.ts).
COPY src/search/word-vectors src/search/word-vectors
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
RUN mkdir -p /var/lib/parley/reports /var/log/parley && chown -R node:node /var/lib/parley /var/log/parley
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:3000/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "--import", "./dist/otel/instrumentation.js", "dist/src/server.js"]

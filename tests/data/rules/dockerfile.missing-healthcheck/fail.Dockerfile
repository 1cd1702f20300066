# expect: line 5
FROM node:20-slim AS build
HEALTHCHECK CMD curl -f http://localhost/ || exit 1
RUN npm ci
FROM node:20-slim
COPY --from=build /app /app

# USER is set only in the builder stage; the final stage is a fresh image running as root.
# expect: line 7
FROM golang:1.22 AS build
RUN useradd -u 10001 app
USER app
RUN go build -o /out/app ./...
FROM debian:12-slim
COPY --from=build /out/app /app

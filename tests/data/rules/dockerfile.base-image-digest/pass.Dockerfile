FROM golang:1.22@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef AS build
FROM build AS test
FROM scratch
COPY --from=build /go/bin/app /app

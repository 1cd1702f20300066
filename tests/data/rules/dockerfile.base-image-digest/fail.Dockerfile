# expect: line 4
# expect: line 6
ARG GO=1.22
FROM golang:${GO} AS build
RUN go version
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /go/bin/app /app

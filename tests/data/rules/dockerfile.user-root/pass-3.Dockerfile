# distroless nonroot tags set a non-root user in the image configuration.
FROM gcr.io/distroless/static-debian12:nonroot
COPY app /app

# expect: line 4
FROM alpine:3.20
# the secret key ends up in the image configuration
ENV AWS_SECRET_ACCESS_KEY=GDZvdbf5IgKyQzJRs7TI9Xf+mUxYkHrq+FmNGwDB
USER 65534

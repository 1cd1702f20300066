# near miss: a reference to a build secret, not the key itself
FROM alpine:3.20
RUN --mount=type=secret,id=aws_secret_access_key cat /run/secrets/aws_secret_access_key > /dev/null
ENV AWS_SECRET_ACCESS_KEY_FILE=/run/secrets/aws
USER 65534

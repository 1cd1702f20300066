# expect: line 4
# expect: line 5
FROM alpine:3.20
ADD https://example.com/tool.tar.gz /opt/
ADD --chown=1000:1000 \
    http://example.com/config.json /etc/app/

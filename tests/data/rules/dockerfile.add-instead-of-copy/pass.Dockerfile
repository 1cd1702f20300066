FROM alpine:3.20
ADD rootfs.tar.xz /
ADD vendor.tgz /opt/
ADD https://example.com/tool.bin /opt/
ADD ${ARTIFACT} /opt/
COPY app.py /app/

# expect: line 4
FROM alpine:3.20
ARG RUNAS=0
USER ${RUNAS}:1000

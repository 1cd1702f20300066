# expect: line 5
# expect: line 6
# expect: line 8
FROM debian:12-slim
EXPOSE 22
EXPOSE 8080 20-30/tcp
ENV SSH_PORT=22
EXPOSE ${SSH_PORT}/TCP

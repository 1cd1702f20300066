# Port 22 in a builder stage does not reach the final image; 22/udp is not SSH.
FROM debian:12-slim AS build
EXPOSE 22
FROM debian:12-slim
EXPOSE 2222 21 23-80 22/udp

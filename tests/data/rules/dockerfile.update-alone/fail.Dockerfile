FROM debian:12-slim
# expect: line 3
RUN apt-get update
RUN apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 && rm -rf /var/lib/apt/lists/*
# expect: line 6
RUN apk update && echo done

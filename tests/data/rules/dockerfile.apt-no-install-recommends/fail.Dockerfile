FROM debian:12-slim
# expect: line 3
RUN apt-get update && apt-get install -y curl=7.88.1-10+deb12u8 && rm -rf /var/lib/apt/lists/*
# expect: line 5
RUN apt update && apt install -y \
      git=1:2.39.5-0+deb12u1 && rm -rf /var/lib/apt/lists/*

FROM debian:12-slim
# expect: line 3
RUN apt-get update && apt-get install -y --no-install-recommends curl git=1:2.39.5-0+deb12u1 && rm -rf /var/lib/apt/lists/*
# expect: line 5
RUN apk add --no-cache --virtual .build-deps gcc
# expect: line 7
RUN dnf install -y python3-devel && dnf clean all
# expect: line 9
RUN python3 -m pip install --no-cache-dir requests "urllib3>=2"

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 ./local.deb \
    && rm -rf /var/lib/apt/lists/*
RUN apk add --no-cache --virtual .build-deps gcc=13.2.1_git20240309-r0 musl-dev~=1.2
RUN dnf install -y python3-devel-3.11.9 && dnf clean all
RUN pip install --no-cache-dir -r requirements.txt
RUN pip install --no-cache-dir -c constraints.txt requests flask
RUN pip install --no-cache-dir flask==3.0.3 ./dist/app-1.0-py3-none-any.whl "lib @ git+https://example.com/lib.git@v1.2"
RUN apt-get update && apt-get install -y --no-install-recommends $PACKAGES && rm -rf /var/lib/apt/lists/*

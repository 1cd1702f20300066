FROM python:3.12-slim AS build
RUN pip install flask==3.0.3
FROM python:3.12-slim
RUN --mount=type=cache,target=/root/.cache/pip pip install flask==3.0.3
RUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked apt-get update \
    && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 \
    && rm -rf /var/lib/apt/lists/*
RUN apk add --no-cache python3=3.12.3-r1
RUN yum install -y tar-1.34 && yum clean all
ENV PIP_NO_CACHE_DIR=1
RUN pip install flask==3.0.3

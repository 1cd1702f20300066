# The builder stage is not shipped; the final stage turns recommends off in apt's configuration.
FROM debian:12-slim AS build
RUN apt-get update && apt-get install -y build-essential=12.9 && rm -rf /var/lib/apt/lists/*
FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 \
    && rm -rf /var/lib/apt/lists/*
RUN echo 'APT::Install-Recommends "false";' > /etc/apt/apt.conf.d/99norecommends
RUN apt-get update && apt-get install -y git=1:2.39.5-0+deb12u1 && rm -rf /var/lib/apt/lists/*

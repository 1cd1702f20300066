FROM debian:12-slim
# expect: line 3
RUN curl -fsSL https://get.example.com/install.sh | bash
# expect: line 5
RUN apt-get update && apt-get install -y --no-install-recommends wget=1.21.3-1+b2 \
    && wget -qO- https://example.org/setup | sudo -E sh -
# expect: line 8
RUN sh -c "$(curl -fsSL https://raw.example.com/install.sh)"
# expect: line 10
RUN bash <(wget -qO- https://example.net/bootstrap)
# expect: line 12
RUN <<EOF
set -eu
curl -sSL https://install.example.com | python3 -
EOF

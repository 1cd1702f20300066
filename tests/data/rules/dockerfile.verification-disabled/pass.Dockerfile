FROM alpine:3.20
RUN curl -fsSL -o /a https://example.com/a
RUN curl -o k.txt -H "X-Key: k" https://example.com/k
ENV NODE_TLS_REJECT_UNAUTHORIZED=1
ENV GIT_SSL_NO_VERIFY=false
RUN git config --global http.sslVerify true
RUN pip install --no-cache-dir --index-url https://pypi.example.com/simple flask==3.0.3
RUN dnf install -y --setopt=gpgcheck=1 tool-1.2.3 && dnf clean all

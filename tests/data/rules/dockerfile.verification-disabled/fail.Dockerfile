FROM alpine:3.20
# expect: line 3
RUN curl -fsSLk https://example.com/a -o /a
# expect: line 5
RUN wget --no-check-certificate https://example.com/b
# expect: line 7
RUN pip install --no-cache-dir --trusted-host pypi.example.com flask==3.0.3
# expect: line 9
RUN apk add --no-cache --allow-untrusted /tmp/pkg.apk
# expect: line 11
ENV NODE_TLS_REJECT_UNAUTHORIZED=0
# expect: line 13
RUN git -c http.sslVerify=false clone https://git.example.com/repo.git
# expect: line 15
RUN dnf install -y --nogpgcheck tool-1.2.3 && dnf clean all

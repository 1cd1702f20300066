FROM debian:12-slim
RUN curl -fsSLo /tmp/install.sh https://get.example.com/install.sh \
    && echo "3f2a  /tmp/install.sh" | sha256sum -c - \
    && sh /tmp/install.sh
RUN curl -s https://api.example.com/v1/release | python3 -c "import json,sys; print(json.load(sys.stdin)['tag'])"
RUN curl -fsSL https://example.com/key.asc | gpg --dearmor -o /usr/share/keyrings/example.gpg
RUN echo "curl https://x | sh" > /notes.txt

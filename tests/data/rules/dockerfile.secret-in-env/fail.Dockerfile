# expect: line 2
ARG GITHUB_TOKEN=ghp_example0000000000000000000000000000
FROM alpine:3.20
# expect: line 6
# expect: line 6
ENV DB_PASSWORD=hunter2 apiKey="abc 123"
# expect: line 8
ENV AWS_SECRET_ACCESS_KEY wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

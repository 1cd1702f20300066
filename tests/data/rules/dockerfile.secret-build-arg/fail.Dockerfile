# expect: line 2
ARG NPM_TOKEN
FROM node:20-slim
# expect: line 5
ARG AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}

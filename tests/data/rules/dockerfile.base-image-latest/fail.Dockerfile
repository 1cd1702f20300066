ARG BASE_TAG=latest
# expect: line 5
# expect: line 7
# expect: line 9
FROM python AS deps
RUN echo deps
FROM node:latest AS web
RUN echo web
FROM registry.example.com:5000/team/app:${BASE_TAG}
COPY --from=deps /a /a

ARG VARIANT
FROM scratch AS empty
FROM python:3.12-slim AS build
FROM build AS test
FROM ubuntu:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef AS pinned
FROM node:${VARIANT} AS unknown
FROM localhost:5000/app:1.0

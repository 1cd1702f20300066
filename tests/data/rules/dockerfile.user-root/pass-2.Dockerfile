# Root for installation, then a non-root user whose group is root (allowed: the user is not root).
FROM node:20-slim
USER root
RUN npm install -g pm2@5.4.2
USER rootless:0

# expect: line 3
FROM python:3.12-slim
RUN echo 'client_secret = "tzFDVvwjj2NXV05vyfyafeiK"' > /app/settings.py
USER 10001

# near miss: placeholders and low-entropy values are not secrets
FROM python:3.12-slim
RUN echo 'client_secret = "changeme-changeme"' > /app/settings.py
RUN echo 'password = "xxxxxxxxxxxxxxxx"' >> /app/settings.py
USER 10001

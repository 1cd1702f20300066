# expect: line 5
FROM python:3.12-slim
USER app
RUN pip install --no-cache-dir flask==3.0.3
USER root:root
CMD ["python", "-m", "app"]

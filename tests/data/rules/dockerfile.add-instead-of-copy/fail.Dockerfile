# expect: line 4
# expect: line 5
FROM alpine:3.20
ADD app.py requirements.txt /app/
ADD ["config dir", "/etc/app/"]

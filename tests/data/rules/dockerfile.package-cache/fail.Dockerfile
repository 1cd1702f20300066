FROM debian:12-slim
# expect: line 3
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 && apt-get clean
# expect: line 5
RUN apk add python3=3.12.3-r1
# expect: line 7
RUN yum install -y tar-1.34
# expect: line 9
RUN pip3 install flask==3.0.3

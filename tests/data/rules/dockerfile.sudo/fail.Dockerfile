FROM ubuntu:24.04
# expect: line 3
RUN sudo apt-get update
# expect: line 5
RUN cd /src && \
    DEBIAN_FRONTEND=noninteractive sudo make install

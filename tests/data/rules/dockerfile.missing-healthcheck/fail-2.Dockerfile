# expect: line 3
FROM nginx:1.27
HEALTHCHECK NONE

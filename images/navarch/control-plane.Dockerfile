# navarch/control-plane: the all-in-one (api-gateway + controller-manager) on Node 24, on scratch.
# It needs an external NATS: run it with NAVARCH_NATS_URL=nats://<host>:4222.
# The two COPY layers (Node with its libraries, then /app) are the same as in
# node-agent.Dockerfile, so both images share them.
FROM scratch
COPY base/ /
COPY app/ /app/
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    HOME=/root \
    NAVARCH_HOME=/data \
    NAVARCH_API_ADDR=0.0.0.0:7443 \
    NAVARCH_LOG_FILE=-
WORKDIR /app
EXPOSE 7443
ENTRYPOINT ["/usr/local/bin/node", "/app/services/all-in-one/dist/main.js"]

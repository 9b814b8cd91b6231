# navarch/node-agent: the node agent on Node 24, on scratch. Run it with the Docker socket mounted
# (-v /var/run/docker.sock:/var/run/docker.sock) and NAVARCH_NATS_URL, NAVARCH_NODE_NAME set.
# The two COPY layers (Node with its libraries, then /app) are the same as in
# control-plane.Dockerfile, so both images share them.
FROM scratch
COPY base/ /
COPY app/ /app/
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    HOME=/root
WORKDIR /app
ENTRYPOINT ["/usr/local/bin/node", "/app/services/node-agent/dist/main.js"]

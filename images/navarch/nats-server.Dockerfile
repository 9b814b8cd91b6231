# navarch/nats-server: the nats-server binary plus the shared libraries it links (if any), on
# scratch. Built by scripts/build-navarch-images.sh, which assembles rootfs/; nothing is pulled.
FROM scratch
COPY rootfs/ /
EXPOSE 4222 8222
ENTRYPOINT ["/usr/local/bin/nats-server", "-js", "-sd", "/data", "-p", "4222", "-m", "8222"]
CMD ["-n", "navarch-nats"]

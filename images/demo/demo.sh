# The answer is fixed for the container's life, so it is written once as static files: httpd
# then serves each request without starting a CGI shell (cheap enough for load tests).
#   GET / (or /index.html)  demo v<VERSION> pod=<name>
#   GET /healthz            ok            (liveness probes)
#   GET /ready              same as /     (readiness; `rm /tmp/www/ready` makes it 404)
name="${POD_NAME:-$(hostname)}"
port="${PORT:-8080}"
mkdir -p /tmp/www
printf 'demo v%s pod=%s\n' "$DEMO_VERSION" "$name" > /tmp/www/index.html
cp /tmp/www/index.html /tmp/www/ready
echo ok > /tmp/www/healthz
# httpd as PID 1 would ignore SIGTERM; the shell traps it, stops httpd and exits 0 at once.
trap 'echo "demo: SIGTERM, stopping"; kill "$pid" 2>/dev/null; exit 0' TERM INT
httpd -f -p "$port" -h /tmp/www &
pid=$!
echo "demo v$DEMO_VERSION listening on :$port pod=$name"
wait "$pid"

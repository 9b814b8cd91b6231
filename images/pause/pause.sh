# PID 1 ignores signals it has no handler for, hence the trap; `wait` returns as soon as a
# trapped signal arrives, so SIGTERM stops the sandbox immediately.
trap 'exit 0' TERM INT
while :; do
  sleep 2147483647 &
  wait
done

max="${MAX_MB:-1024}"
echo "memhog: allocating up to ${max} MiB"
trap 'exit 0' TERM INT
# The shell (PID 1) holds the memory itself, so the OOM killer ends PID 1 and the container.
s=$(head -c 1048576 /dev/zero | tr '\0' x)
mb=1
while [ "$mb" -lt "$max" ]; do
  s="$s$s"
  mb=$((mb * 2))
  echo "memhog: holding ${mb} MiB"
done
while :; do
  sleep 3600 &
  wait
done

code="${1:-${EXIT_CODE:-1}}"
delay="${SLEEP:-0}"
echo "exit: will exit with code $code after ${delay}s"
# Honour SIGTERM during the sleep (PID 1 would ignore it otherwise): 143 = 128 + SIGTERM.
trap 'echo "exit: SIGTERM"; exit 143' TERM INT
sleep "$delay" &
wait $!
echo "exit: exiting with code $code"
exit "$code"

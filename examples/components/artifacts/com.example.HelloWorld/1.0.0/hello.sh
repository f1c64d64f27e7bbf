#!/bin/sh
# Prints the configured message, then a tick every 10 seconds.
echo "$1 (thing ${AWS_IOT_THING_NAME:-unknown}, running as $(id -un))"
i=0
while true; do
  sleep 10
  i=$((i + 1))
  echo "tick $i"
done

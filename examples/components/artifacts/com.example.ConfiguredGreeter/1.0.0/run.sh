#!/bin/sh
# Run step: prints what Install wrote, every $1 seconds.
interval="${1:-5}"
while true; do
  echo "ConfiguredGreeter says: $(cat greeting.txt)"
  sleep "$interval"
done

#!/bin/sh
# Prints who it runs as and the memory limit the nucleus put on its cgroup (v2 memory.max or
# v1 memory.limit_in_bytes), then ticks every $1 seconds.
interval="${1:-5}"
echo "LimitedWorker running as $(id -un):$(id -gn) (uid $(id -u))"
limit=unknown
cg=$(sed -n 's/^0::\(.*\)$/\1/p' /proc/self/cgroup)
if [ -n "$cg" ] && [ -r "/sys/fs/cgroup$cg/memory.max" ]; then
  limit=$(cat "/sys/fs/cgroup$cg/memory.max")
else
  v1=$(sed -n 's/^[0-9]*:[^:]*memory[^:]*:\(.*\)$/\1/p' /proc/self/cgroup)
  if [ -n "$v1" ] && [ -r "/sys/fs/cgroup/memory$v1/memory.limit_in_bytes" ]; then
    limit=$(cat "/sys/fs/cgroup/memory$v1/memory.limit_in_bytes")
  fi
fi
echo "LimitedWorker memory limit: $limit"
n=0
while true; do
  n=$((n + 1))
  echo "LimitedWorker tick $n"
  sleep "$interval"
done

#!/bin/sh
# One tier of the example app: announces itself, then ticks.
echo "$1 tier up (after: ${2:-nothing})"
while true; do sleep 5; echo "$1 tier alive"; done

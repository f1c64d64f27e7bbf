#!/bin/sh
# Install step: writes the greeting into the component's work directory (its current directory).
set -e
printf '%s, %s!\n' "$1" "$2" > greeting.txt
echo "ConfiguredGreeter installed: $(cat greeting.txt)"

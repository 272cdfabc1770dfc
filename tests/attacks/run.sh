#!/bin/sh
# The attack and benign corpora as a report: detected or missed per script,
# the detection rate, the benign corpus's alerts.
#
#   tests/attacks/run.sh [BUILD_DIR] [run.py options and name patterns]
#   e.g. tests/attacks/run.sh build credential_access --json /tmp/attacks.json
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=build
case "${1:-}" in
-* | "") ;;
*) if [ -d "$1" ]; then build=$1; shift; fi ;;
esac
exec /usr/bin/python3 "$here/run.py" --bin "$build/tapio-collector" "$@"

# Helpers for the attack and benign scripts: source "$ATTACK_LIB".
#
# Every script undoes what it did, also when it fails half way: register
# each undo step right after (or just before) the step it undoes; the steps
# run last-first when the script exits, however it exits.
#
#   undo 'rm -f /etc/cron.d/x'          run this at exit
#   append_line FILE LINE               append LINE to FILE; at exit remove that line again
#   as_user CMD...                      run CMD as the throwaway user ($ATTACK_USER)
#   tmpname                             a name unique to this run: tapio-atk-<id>-<random>
#
# Scripts run as root, in a private directory ($ATTACK_TMP, removed
# afterwards), with $ATTACK_ID unique to the run (put it in every name you
# create outside $ATTACK_TMP, so two runs never touch the same file).

set -eu
: "${ATTACK_TMP:?run this script through tests/attacks/run.py}"

_undo_steps=()
undo() { _undo_steps+=("$1"); }

_run_undo() {
	local rc=$? i
	set +e
	for ((i = ${#_undo_steps[@]} - 1; i >= 0; i--)); do
		eval "${_undo_steps[$i]}" >/dev/null 2>&1
	done
	exit "$rc"
}
trap _run_undo EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

as_user() {
	setpriv --reuid="$ATTACK_UID" --regid="$ATTACK_GID" --init-groups \
		env -i HOME="$ATTACK_HOME" USER="$ATTACK_USER" LOGNAME="$ATTACK_USER" \
		SHELL=/bin/bash PATH=/usr/local/bin:/usr/bin:/bin LC_ALL=C.UTF-8 "$@"
}

tmpname() {
	printf 'tapio-atk-%s-%s\n' "$ATTACK_ID" "$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
}

# Append a line to a file another program owns, and take exactly that
# line out again at exit (other lines, also ones added meanwhile, stay).
# A file that did not exist is removed again.
append_line() {
	local file=$1 line=$2
	if [ -e "$file" ]; then
		undo "_remove_line '$file' '$line'"
	else
		undo "rm -f '$file'"
	fi
	printf '%s\n' "$line" >>"$file"
}

_remove_line() {
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import sys
path, line = sys.argv[1], (sys.argv[2] + "\n").encode()
try:
    f = open(path, "r+b")
except FileNotFoundError:
    sys.exit(0)
with f:
    data = f.read()
    i = data.rfind(line)
    if i >= 0:
        f.seek(0)
        f.write(data[:i] + data[i + len(line):])
        f.truncate()
EOF
}

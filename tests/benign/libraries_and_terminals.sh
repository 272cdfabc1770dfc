#!/bin/bash
# desc: library and terminal work developers and admins do: a shared library built and used through LD_LIBRARY_PATH (home and a /tmp build tree), fakeroot, valgrind, ldconfig, a python venv, a session recorded with script, sudo, a user running what they built, an editor's remote terminal
source "$ATTACK_LIB"

src="$ATTACK_HOME/src/libgreet-$ATTACK_ID"
undo "rm -rf '$src'"
as_user mkdir -p "$src/lib"
as_user tee "$src/greet.c" >/dev/null <<'C'
int greet(int x) { return x + 1; }
C
as_user tee "$src/main.c" >/dev/null <<'C'
int greet(int x);
int main(void) { return greet(41) == 42 ? 0 : 1; }
C
cd "$src"
as_user cc -shared -fPIC -o lib/libgreet.so greet.c
as_user cc -o main main.c -Llib -lgreet
as_user env LD_LIBRARY_PATH="$src/lib" ./main
# the same project built in /tmp, its test run as libtool's wrappers do
tmpb=$ATTACK_TMP/build
mkdir -p "$tmpb/.libs" && chown -R "$ATTACK_USER" "$tmpb"
as_user cp lib/libgreet.so main "$tmpb/.libs/"
as_user env LD_LIBRARY_PATH="$tmpb/.libs:" "$tmpb/.libs/main"
# package builds and debugging preload their own helpers
if command -v fakeroot >/dev/null; then as_user fakeroot sh -c 'touch x.stamp; ls -l x.stamp >/dev/null; rm x.stamp'; fi
if command -v valgrind >/dev/null; then as_user valgrind -q --error-exitcode=0 env LD_LIBRARY_PATH="$src/lib" ./main; fi
/sbin/ldconfig -p >/dev/null
# a python virtual environment
as_user /usr/bin/python3 -m venv --without-pip "$src/venv"
as_user "$src/venv/bin/python" -c 'import sys; assert sys.prefix != sys.base_prefix'
# a session recorded to a file, and sudo
as_user script -q -c 'ls >/dev/null; id >/dev/null' "$src/typescript" </dev/null >/dev/null
sudo -n /usr/bin/id >/dev/null
sudo -n -u "$ATTACK_USER" /usr/bin/id >/dev/null
# an editor's remote server opening an integrated terminal (a ruby named
# node standing in for VS Code's, in the same place under the home)
vsc="$src/.vscode-server/bin/0123abcd"
as_user mkdir -p "$vsc"
as_user cp /usr/bin/ruby "$vsc/node"
as_user "$vsc/node" -rpty -e 'PTY.spawn("/bin/bash", "-c", "id") { |r, w, pid| begin; r.read; rescue Errno::EIO; end; Process.wait(pid) }' </dev/null >/dev/null

#!/bin/sh
# Install the Debian packages tapio-collector needs, only those that are
# missing. Needs root when something is missing.
#   deps.sh build   what building and running the agent and tapio-sink need
#                   (make build, make run)
#   deps.sh test    that, and what the test suite needs (make test)
#   deps.sh package that, and the Debian packaging tools (make package)
set -eu

# Build and run: compiler, BPF toolchain, libraries.
BUILD_PKGS="gcc make cmake pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
liblua5.4-dev libprotobuf-c-dev protobuf-c-compiler libgrpc-dev libssl-dev"
# make package (and the deployment tests): the Debian packaging tools.
PACKAGE_PKGS="dpkg-dev file"
# Tests: the unit test framework, peers we did not write, the tools tests
# drive, the fuzzers' runtime.
TEST_PKGS="libcmocka-dev lua5.4 python3 python3-grpcio python3-protobuf libbpf-tools bpftrace
iproute2 util-linux procps e2fsprogs libclang-rt-14-dev python3-prometheus-client openssl passwd
$PACKAGE_PKGS"
# The attack and benign corpora (tests/attacks, tests/benign): the tools
# attackers and admins use.
TEST_PKGS="$TEST_PKGS gdb cron sudo ed vim git openssh-client xxd libcap2-bin netcat-openbsd
socat zip unzip curl wget strace"
# Deployment tests (tests/integration/test_deploy.py, test_examples.py):
# capsh, systemd-analyze, YAML, man page checks.
TEST_PKGS="$TEST_PKGS systemd python3-yaml groff-base"
# Interpreters, pagers and tools the execution, defense evasion and
# container escape scripts use the way attackers do.
TEST_PKGS="$TEST_PKGS gawk ruby expect less nodejs lua5.4 bsdutils kmod wipe runc
netcat-traditional ncat dnsutils sshpass iputils-ping fdisk busybox"

case "${1:-test}" in
build) want="$BUILD_PKGS" ;;
package) want="$BUILD_PKGS $PACKAGE_PKGS" ;;
test | all) want="$BUILD_PKGS $TEST_PKGS" ;;
*)
	echo "usage: scripts/deps.sh [build|test|package]" >&2
	exit 2
	;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "tapio-collector: missing Debian packages:$missing" >&2
	echo "tapio-collector: run 'make' as root (or install them with apt-get) to continue" >&2
	exit 1
fi
echo "Installing missing packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

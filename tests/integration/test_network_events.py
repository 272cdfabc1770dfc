"""network.* events from loopback traffic the test makes: connect and
accept (IPv4, IPv6, unix), TCP state changes and connection ends with
their owner, and DNS queries sent with sendto, send, sendmsg, sendmmsg."""
import json
import os
import subprocess
import textwrap

from kernel_helpers import PYTHON
from tapio import Collector, check, require_root, run_tests, unique

TCP = textwrap.dedent("""
    import json, socket
    fam, host = %(fam)s, %(host)r
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.bind((host, 0)); srv.listen()
    port = srv.getsockname()[1]
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.connect((host, port))
    a, _ = srv.accept()
    c.sendall(b'x' * 1000); got = 0
    while got < 1000:
        got += len(a.recv(4096))
    a.sendall(b'y' * 10); c.recv(100)
    cport = c.getsockname()[1]
    c.close(); a.close(); srv.close()
    r = socket.socket(fam, socket.SOCK_STREAM)
    try:
        r.connect((host, port))  # nothing listens any more
    except ConnectionRefusedError:
        pass
    print(json.dumps({"port": port, "cport": cport}))
""")


def run_child(code):
    """Run code; returns its pid and the JSON object it printed last."""
    p = subprocess.Popen([PYTHON, "-c", code], stdout=subprocess.PIPE, text=True)
    out, _ = p.communicate(timeout=60)
    check(p.returncode == 0, "child failed with %r" % p.returncode)
    return p.pid, json.loads(out.strip().splitlines()[-1])


def check_tcp(fam, host):
    with Collector("-a", "-k", "categories=network") as c:
        pid, out = run_child(TCP % {"fam": "socket." + fam, "host": host})
        port, cport = out["port"], out["cport"]

        co = c.wait_event(type="network.connect", pid=pid, dport=port, ret=0)
        check(co["family_str"] == fam and co["saddr"] == host and co["sport"] == cport,
              "connect ends %r" % co)
        check(co["protocol_str"] == "IPPROTO_TCP" and co["socktype_str"] == "SOCK_STREAM", "connect %r" % co)
        ac = c.wait_event(type="network.accept", pid=pid, sport=port)
        check(ac["ret"] >= 0 and ac["daddr"] == host and ac["dport"] == cport and ac["saddr"] == host,
              "accept ends %r" % ac)
        refused = c.wait_event(type="network.connect", pid=pid, dport=port, ret=-111)
        check(refused["ret_str"] == "ECONNREFUSED" and refused["daddr"] == host, "refused %r" % refused)

        # The client socket's life, attributed to its owner even where the
        # kernel changed state in softirq context.
        c.wait_until(lambda: any(e["newstate_str"] == "TCP_CLOSE" for e in
                                 c.find(type="network.state", pid=pid, dport=port)), what="client close state")
        mine = [e for e in c.find(type="network.state", pid=pid) if e["dport"] == port]
        states = [(e["oldstate_str"], e["newstate_str"]) for e in mine if e["sock"] == mine[0]["sock"]]
        check(("TCP_CLOSE", "TCP_SYN_SENT") in states and ("TCP_SYN_SENT", "TCP_ESTABLISHED") in states,
              "client states %r" % states)
        check(all(e["owner_known"] and e["comm"] == "python3" for e in mine), "owners %r" % mine)
        check(any(e["newstate_str"] == "TCP_LISTEN" and e["sport"] == port
                  for e in c.find(type="network.state", pid=pid)), "no LISTEN state")

        cl = c.wait_until(lambda: next((e for e in c.find(type="network.close", pid=pid)
                                        if e["dport"] == port and e["bytes_sent"] >= 1000), None),
                          what="client connection close")
        check(cl["bytes_sent"] <= 1002 and 10 <= cl["bytes_received"] <= 12 and cl["owner_known"],
              "client close %r" % cl)
        check(cl["duration_ns"] > 0, "close duration %r" % cl["duration_ns"])
        srv_close = c.wait_until(lambda: next((e for e in c.find(type="network.close", pid=pid)
                                               if e["dport"] == cport), None), what="server side close")
        check(srv_close["bytes_received"] >= 1000, "server close %r" % srv_close)
        check(c.stop() == 0, "collector exit code")


def test_tcp_ipv4():
    check_tcp("AF_INET", "127.0.0.1")


def test_tcp_ipv6():
    check_tcp("AF_INET6", "::1")


def test_unix_connect():
    name = unique("sock")
    with Collector("-a", "-k", "categories=network") as c:
        code = textwrap.dedent("""
            import os, socket, tempfile
            d = tempfile.mkdtemp()
            path = os.path.join(d, %r)
            s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen()
            c = socket.socket(socket.AF_UNIX); c.connect(path)
            a = socket.socket(socket.AF_UNIX); a.bind('\\0' + %r); a.listen()
            b = socket.socket(socket.AF_UNIX); b.connect('\\0' + %r)
            print(path)
        """) % (name, name, name)
        p = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=60)
        path = p.stdout.strip()
        ev = c.wait_event(type="network.connect", unix_path=path)
        check(ev["family_str"] == "AF_UNIX" and ev["ret"] == 0, "unix connect %r" % ev)
        c.wait_event(type="network.connect", unix_path="@" + name, pid=ev["pid"])
        c.stop()


# Run in a network namespace of its own, where nothing else listens on port
# 53: receivers there keep ICMP errors from failing the connected sends.
DNS = textwrap.dedent("""
    import ctypes, socket, struct, subprocess
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    sinks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)]
    sinks[0].bind(('127.0.0.1', 53)); sinks[1].bind(('::1', 53))
    def query(name, qtype, qid, flags=0x0100):
        q = struct.pack('>HHHHHH', qid, flags, 1, 0, 0, 0)
        q += b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\\0'
        return q + struct.pack('>HH', qtype, 1)
    n = %(name)r
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(query('a.' + n, 1, 1), ('127.0.0.1', 53))
    u.sendto(query('other.' + n, 1, 2), ('127.0.0.1', 5353))       # not port 53
    u.sendto(query('resp.' + n, 1, 3, 0x8180), ('127.0.0.1', 53))  # a response
    u.sendmsg([query('msg.' + n, 15, 4)], [], 0, ('127.0.0.1', 53))
    v = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    v.connect(('::1', 53)); v.send(query('six.' + n, 28, 5))
    # sendmmsg, as glibc sends its A and AAAA queries
    class iovec(ctypes.Structure):
        _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
    class msghdr(ctypes.Structure):
        _fields_ = [('name', ctypes.c_void_p), ('namelen', ctypes.c_uint), ('iov', ctypes.POINTER(iovec)),
                    ('iovlen', ctypes.c_size_t), ('control', ctypes.c_void_p), ('controllen', ctypes.c_size_t),
                    ('flags', ctypes.c_int)]
    class mmsghdr(ctypes.Structure):
        _fields_ = [('hdr', msghdr), ('len', ctypes.c_uint)]
    w = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); w.connect(('127.0.0.1', 53))
    bufs = [query('mm1.' + n, 1, 6), query('mm2.' + n, 28, 7)]
    keep = [ctypes.create_string_buffer(b, len(b)) for b in bufs]
    iovs = [iovec(ctypes.cast(k, ctypes.c_void_p), len(b)) for k, b in zip(keep, bufs)]
    msgs = (mmsghdr * 2)()
    for i in range(2):
        msgs[i].hdr.iov = ctypes.pointer(iovs[i]); msgs[i].hdr.iovlen = 1
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.sendmmsg(w.fileno(), msgs, 2, 0) == 2, ctypes.get_errno()
""")


def test_dns_queries():
    name = unique("q") + ".example.com"
    with Collector("-a", "-k", "categories=network") as c:
        p = subprocess.Popen(["unshare", "--net", PYTHON, "-c", DNS % {"name": name}])
        check(p.wait(60) == 0, "DNS child failed")

        def q(qname, **kw):
            return c.wait_event(type="network.dns", pid=p.pid, qname=qname, **kw)

        a = q("a." + name, qtype_str="A", qclass_str="IN", id=1, daddr="127.0.0.1", dport=53,
              syscall_str="sendto")
        check(a["ret"] == 12 + len("a." + name) + 2 + 4, "bytes sent %r" % a["ret"])
        q("msg." + name, qtype_str="MX", id=4, syscall_str="sendmsg")
        q("six." + name, qtype_str="AAAA", id=5, daddr="::1", family_str="AF_INET6")
        q("mm1." + name, qtype_str="A", id=6, syscall_str="sendmmsg")
        q("mm2." + name, qtype_str="AAAA", id=7, syscall_str="sendmmsg")
        c.stop()
        names = [e["qname"] for e in c.find(type="network.dns", pid=p.pid)]
        check(len(names) == 5, "DNS events %r (port 5353 and responses are not queries)" % names)


if __name__ == "__main__":
    require_root()
    run_tests([test_tcp_ipv4, test_tcp_ipv6, test_unix_connect, test_dns_queries])

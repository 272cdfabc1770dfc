"""Configuration as a user meets it: precedence of flags over environment
over defaults, errors that name the key (or flag, or variable) and exit 2,
--print-config that is itself a valid config file (checked with the lua5.4
interpreter), and a key reference (docs/configuration.md) that matches the program."""
import os
import re
import subprocess

from tapio import BIN, SOURCE_DIR, TempDir, check, run_tests

LUA = "/usr/bin/lua5.4"


def run(*args, env=None):
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("TAPIO_"):
            del e[k]
    e.update(env or {})
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=30, env=e)


def lua_eval(config_text, expr):
    """Evaluate config_text (a chunk returning a table) and print expr of it."""
    prog = "local t = load(io.read('a'))()\nprint(%s)\n" % expr
    r = subprocess.run([LUA, "-e", prog], input=config_text, capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "lua5.4 rejected the config: %s" % r.stderr)
    return r.stdout.strip()


def test_precedence_flag_env_default():
    r = run("--print-config", "--buffer-size", "300", "--set", "sampling.base_rate=0.05",
            env={"TAPIO_BUFFER_SIZE": "2000", "TAPIO_CORRELATION_MODE": "temporal",
                 "TAPIO_SERVER_ADDR": "env-host:9090"})
    check(r.returncode == 0, "exit %r: %s" % (r.returncode, r.stderr))
    out = r.stdout
    check("batch_size = 300, -- flag" in out, "flag did not win:\n%s" % out)
    check('correlation = "temporal", -- environment' in out, "env not applied:\n%s" % out)
    check('address = "env-host:9090", -- environment' in out, "env server not applied")
    check("base_rate = 0.05, -- flag" in out, "--set not applied")
    check("per_process = 1000, -- default" in out, "default not marked")
    got = lua_eval(out, "t.server.batch_size, t.server.correlation, t.sampling.base_rate, "
                        "t.programs.memory.enabled, #t.rules.paths, t.rules.paths[1]")
    want = "300\ttemporal\t0.05\ttrue\t1\t" + os.path.join(SOURCE_DIR, "rules", "default")
    check(got == want, "evaluated config differs: %r, want %r" % (got, want))


def test_go_collector_command_line():
    # The production command line of the reference documents.
    r = run("--print-config", "--server", "tapio-server:9090", "--enable-ebpf", "--buffer-size", "2000",
            "--flush-interval", "500ms", "--correlation", "semantic",
            env={"TAPIO_DEBUG": "true", "TAPIO_ENABLE_EBPF": "true"})
    check(r.returncode == 0, "exit %r: %s" % (r.returncode, r.stderr))
    check('flush_interval = "500ms", -- flag' in r.stdout, r.stdout)
    check('level = "debug", -- environment' in r.stdout, r.stdout)


def test_errors_name_what_is_wrong():
    cases = [
        (["--set", "sampling.base_rate=2"], {},
         '--set sampling.base_rate: expected a number from 1e-06 to 1, got "2"'),
        (["--set", "sampling.rate=0.1"], {}, "--set: unknown key 'sampling.rate'"),
        (["--set", "rate_limit.per_process=-1"], {}, "--set rate_limit.per_process: expected a whole number"),
        (["--set", "ring.size=3"], {}, "--set ring.size: expected a size from 64K to 1G"),
        (["--set", "sampling.never_sample_categories=security,kernel"], {},
         "--set sampling.never_sample_categories: expected a list of categories"),
        (["--flush-interval", "never"], {}, "invalid value 'never' for --flush-interval"),
        ([], {"TAPIO_BUFFER_SIZE": "0"}, "invalid value '0' for TAPIO_BUFFER_SIZE: expected a whole number from 1 to 1000000"),
        ([], {"TAPIO_LOG_FORMAT": "xml"}, "invalid value 'xml' for TAPIO_LOG_FORMAT"),
        ([], {"TAPIO_METRICS_ADDR": "9464"}, "invalid value '9464' for TAPIO_METRICS_ADDR: expected HOST:PORT or off"),
        ([], {"TAPIO_ENABLE_EBPF": "false"}, "cannot be disabled"),
        (["--enable-ebpf=no"], {}, "cannot be disabled"),
        (["--set", "filter.min_severity=loud"], {},
         '--set filter.min_severity: expected one of debug, info, notice, warning, error, critical, '
         'got "loud"'),
    ]
    for args, env, text in cases:
        r = run("--print-config", *args, env=env)
        check(r.returncode == 2, "%r %r: exit %r" % (args, env, r.returncode))
        check(text in r.stderr, "%r %r: stderr %r" % (args, env, r.stderr))
        check(r.stdout == "", "%r: printed a config anyway" % args)


def test_readme_reference_matches_the_program():
    r = run("--print-keys")
    check(r.returncode == 0, "--print-keys failed: %s" % r.stderr)
    ref = open(os.path.join(SOURCE_DIR, "docs/configuration.md")).read()
    m = re.search(r"<!-- config-keys:begin -->\n(.*?)<!-- config-keys:end -->", ref, re.S)
    check(m, "docs/configuration.md has no config-keys block")
    check(m.group(1) == r.stdout,
          "docs/configuration.md key reference is stale: regenerate it with "
          "'tapio-collector --print-keys'\n--- docs\n%s\n--- program\n%s" % (m.group(1), r.stdout))
    # Every flag or variable that sets a key is documented outside the key
    # table too (the README's flag and environment tables, or the docs).
    docs = os.path.join(SOURCE_DIR, "docs")
    text = open(os.path.join(SOURCE_DIR, "README.md")).read() + ref.replace(m.group(1), "")
    for name in sorted(os.listdir(docs)):
        if name.endswith(".md") and name != "configuration.md":
            text += open(os.path.join(docs, name)).read()
    for line in r.stdout.splitlines()[2:]:
        for name in re.findall(r"`(--[a-z-]+|TAPIO_[A-Z_]+)`", line):
            check(name in text, "%s is documented only in the key table" % name)


def write_config(tmp, text, name="config.lua"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def values_only(printed):
    """--print-config output without the origin comments."""
    return [l.split(" --")[0] for l in printed.splitlines() if not l.startswith("--")]


def test_config_file_layers():
    with TempDir() as tmp:
        path = write_config(tmp, """
            return {
              preset = "high-performance",
              server = { batch_size = 700, correlation = "temporal" },
              sampling = { base_rate = 0.2 },
              ["rate_limit.per_process"] = 123,
            }""")
        r = run("-c", path, "--print-config", "--set", "sampling.base_rate=0.3",
                env={"TAPIO_BUFFER_SIZE": "800"})
        check(r.returncode == 0, "exit %r: %s" % (r.returncode, r.stderr))
        out = r.stdout
        for line in ('preset = "high-performance", -- file', "batch_size = 800, -- environment",
                     'correlation = "temporal", -- file', "base_rate = 0.3, -- flag",
                     "per_process = 123, -- file", 'size = "16M", -- preset',
                     "burst_threshold = 5000, -- preset", "per_container = 2000, -- preset"):
            check(line in out, "missing %r in:\n%s" % (line, out))
        # -p wins over the file's preset; the file's own keys still apply.
        r = run("-c", path, "-p", "security", "--print-config")
        check('preset = "security", -- flag' in r.stdout and "per_process = 123, -- file" in r.stdout
              and 'size = "8M", -- preset' in r.stdout, r.stdout + r.stderr)


def test_config_file_problems_all_reported():
    with TempDir() as tmp:
        path = write_config(tmp, """return {
              sampling = { base_rat = 0.1, enabled = "maybe" },
              ring = { size = "1T" },
              rate_limits = {},
            }""")
        r = run("-c", path, "--print-config")
        check(r.returncode == 2, "exit %r" % r.returncode)
        for text in ("%s: unknown key 'sampling.base_rat' (did you mean 'sampling.base_rate'?)" % path,
                     '%s: sampling.enabled: expected true or false, got "maybe"' % path,
                     "%s: ring.size: expected a size from 64K to 1G" % path,
                     "%s: unknown key 'rate_limits' (did you mean 'rate_limit'?)" % path):
            check(text in r.stderr, "no %r in %r" % (text, r.stderr))
        check(r.stdout == "", "printed a config anyway")
        bad = write_config(tmp, "return { preset = 'turbo' }", "preset.lua")
        r = run("-c", bad, "--print-config")
        check(r.returncode == 2 and "preset: expected one of default, high-performance, security, "
              'got "turbo"' in r.stderr, r.stderr)
        syntax = write_config(tmp, "return {\n  sampling = { enabled = true,\n}\n", "syntax.lua")
        r = run("-c", syntax)
        check(r.returncode == 2 and syntax + ":4:" in r.stderr, r.stderr)
        r = run("-c", os.path.join(tmp, "missing.lua"))
        check(r.returncode == 2 and "No such file or directory" in r.stderr, r.stderr)
        os.chmod(path, 0o666)
        r = run("-c", path)
        check(r.returncode == 2 and "%s: refusing to load: writable by every user (mode 666); "
              "run chmod go-w on it" % path in r.stderr, r.stderr)


def test_filter_keys_in_a_file():
    with TempDir() as tmp:
        path = write_config(tmp, 'return { filter = { min_severity = 4 } }')
        r = run("-c", path, "--print-config")
        check(r.returncode == 2 and "%s: filter.min_severity: expected one of debug, info, notice, "
              "warning, error, critical, got 4" % path in r.stderr, r.stderr)
        path = write_config(tmp, 'return { filter = { min_severity = "Error" } }')
        r = run("-c", path, "--print-config")
        check(r.returncode == 0 and 'min_severity = "error", -- file' in r.stdout, r.stdout + r.stderr)
        # Container and namespace filters: lists of non-empty patterns, and
        # only with the enrichment that knows containers and pods.
        path = write_config(tmp, 'return { filter = { k8s_namespaces = "prod", containers = { "ab", "" } } }')
        r = run("-c", path, "--print-config")
        check(r.returncode == 2 and '%s: filter.k8s_namespaces: expected a list of strings, got "prod"' % path
              in r.stderr and "%s: filter.containers: expected a list of non-empty strings, got an empty "
              "string" % path in r.stderr, r.stderr)
        r = run("--print-config", "--set", "filter.exclude_containers=*", "--set", "enrich.enabled=false")
        check(r.returncode == 2 and "filter.exclude_containers needs the enrichment stage "
              "(enrich.enabled = true)" in r.stderr, r.stderr)
        path = write_config(tmp, 'return { filter = { containers = { "3f0a9c", "web-*" },'
                                 ' exclude_k8s_namespaces = { "kube-*" } } }')
        r = run("-c", path, "--print-config")
        check(r.returncode == 0 and 'containers = { "3f0a9c", "web-*" }, -- file' in r.stdout
              and 'exclude_k8s_namespaces = { "kube-*" }, -- file' in r.stdout, r.stdout + r.stderr)


def test_print_config_round_trips():
    with TempDir() as tmp:
        r = run("--preset", "security", "--set", "filter.exclude_comms=cron,sshd",
                "--set", "sampling.base_rate=0.125", "--print-config")
        check(r.returncode == 0, r.stderr)
        path = write_config(tmp, r.stdout)
        again = run("-c", path, "--print-config")
        check(again.returncode == 0, again.stderr)
        check(values_only(again.stdout) == values_only(r.stdout),
              "round trip differs:\n%s\n---\n%s" % (r.stdout, again.stdout))


def test_presets_and_example_load():
    for preset in ("default", "high-performance", "security"):
        r = run("--preset", preset, "--print-config")
        check(r.returncode == 0, "%s: %s" % (preset, r.stderr))
        check('preset = "%s", -- flag' % preset in r.stdout, r.stdout)
    r = run("-c", os.path.join(SOURCE_DIR, "examples", "config.lua"), "--print-config")
    check(r.returncode == 0, "examples/config.lua: %s" % r.stderr)
    check('exclude_comms = { "node_exporter" }, -- file' in r.stdout, r.stdout)


def test_help_mentions_new_flags():
    r = run("--help")
    for flag in ("--log-format", "--set", "--print-config", "--print-keys", "--enable-ebpf",
                 "TAPIO_DEBUG", "TAPIO_LOG_FORMAT", "TAPIO_METRICS_ADDR"):
        check(flag in r.stdout, "--help does not mention %s" % flag)


if __name__ == "__main__":
    run_tests([test_precedence_flag_env_default, test_go_collector_command_line,
               test_config_file_layers, test_config_file_problems_all_reported,
               test_print_config_round_trips, test_presets_and_example_load,
               test_errors_name_what_is_wrong, test_readme_reference_matches_the_program,
               test_help_mentions_new_flags, test_filter_keys_in_a_file])

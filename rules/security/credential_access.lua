-- Credential access (ATT&CK TA0006): password hashes, other processes'
-- memory and environment, private keys, cloud and tool credentials,
-- browser and password stores, Kerberos tickets, shell history, and the
-- searches that look for them.
--
-- A credential file has owners: the programs that read it to do their job
-- (ssh reads ~/.ssh/id_*, aws reads ~/.aws/credentials). Anything else
-- that opens it for reading is reported. The owners are listed with each
-- kind below; add your own with an exception on the rule's name.

local startswith, startswith_any, endswith, basename = tapio.startswith, tapio.startswith_any,
                                                       tapio.endswith, tapio.basename
local O_ACCMODE = 3
local EACCES, EPERM = -13, -1

local WHO = "${comm} (pid ${pid}, uid ${uid}, exe ${exe|'?'}, parent ${parent.comm|'?'}[${ppid}], "
         .. "container ${container.id|'host'}, pod ${k8s.namespace|'-'}/${k8s.pod|'-'})"

-- A successful open that can read.
local function reads(e)
  return e.ret >= 0 and (e.flags & O_ACCMODE) ~= 1
end

-- The system's own copies of programs: an owner's name on a binary
-- elsewhere (/tmp/sshd) is not an owner.
local SYSTEM_DIRS = { "/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/", "/usr/lib/", "/usr/libexec/",
                      "/lib/", "/usr/local/bin/", "/usr/local/sbin/", "/opt/", "/snap/" }
local function owner(e, owners)
  if not owners[e.comm] then return false end
  local exe = e.exe
  return exe == nil or startswith_any(exe, SYSTEM_DIRS)
end

-- Backup agents read everything, keys included.
local BACKUP = tapio.set { "restic", "borg", "duplicity", "bacula-fd", "bareos-fd", "rsnapshot",
                           "urbackup_clien", "duplicati", "kopia" }

---------------------------------------------------------------- password hashes

local SHADOW_PATHS = {
  "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/security/opasswd",
  "/var/backups/shadow.bak", "/var/backups/gshadow.bak", "/etc/master.passwd",
  "/etc/shadow.bak", "/etc/gshadow.bak", "/etc/nshadow",
}
local SHADOW = tapio.set(SHADOW_PATHS)
-- Programs that read password hashes to do their job.
local AUTH = tapio.set {
  "sshd", "sshd-session", "login", "su", "sudo", "sudoedit", "passwd", "unix_chkpwd", "chage",
  "chpasswd", "chsh", "chfn", "useradd", "usermod", "userdel", "groupadd", "groupmod",
  "groupdel", "gpasswd", "newusers", "vipw", "vigr", "pwck", "grpck", "pwconv", "grpconv",
  "pwunconv", "grpunconv", "cron", "crond", "polkitd", "systemd-logind", "shadowconfig",
  "expiry", "runuser", "dpkg", "newgrp", "sg", "vsftpd", "dovecot", "saslauthd", "xrdp",
  "lightdm", "gdm-session-wor", "sddm-helper", "cockpit-session", "systemd-homed", "cp"
}
-- cp is here for one reason: /etc/cron.daily/passwd backs the files up to
-- /var/backups with cp; a cp outside it is not an owner (see the rule).

rule {
  name = "password_hashes_read",
  desc = "A password hash file (/etc/shadow, gshadow, their backups, opasswd) was opened for "
      .. "reading by a program that does not authenticate users: cat, an editor, a shell "
      .. "builtin, a script",
  events = { "file.open" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1003.008" },
  match = { set = { credential_path = true }, path = SHADOW }, -- the key: the shared check below
  when = function(e)
    if not (SHADOW[e.path] and reads(e)) then return false end
    if e.comm == "cp" then
      -- the daily backup job: cp run by the passwd script that run-parts starts
      local par = e.parent
      return not (par and par.comm == "passwd" and e.ancestors ~= nil
                  and e.ancestors[1] ~= nil and e.ancestors[1].comm == "run-parts")
    end
    return not owner(e, AUTH)
  end,
  output = "${path} read by " .. WHO,
  tests = {
    { event = { type = "file.open", comm = "python3", path = "/etc/shadow", flags = 0 },
      expect = true,
      output = "/etc/shadow read by python3 (pid 1000, uid 0, exe ?, parent ?[1], container "
            .. "host, pod -/-)" },
    { event = { type = "file.open", comm = "bash", path = "/var/backups/shadow.bak", flags = 0 },
      expect = true },
    { event = { type = "file.open", comm = "sshd", exe = "/tmp/.x/sshd", path = "/etc/shadow",
                flags = 0 }, expect = true },
    { event = { type = "file.open", comm = "cp", path = "/etc/shadow-", flags = 0,
                parent = { comm = "bash" } }, expect = true },
    { event = { type = "file.open", comm = "vim", path = "/etc/gshadow", flags = 2 },
      expect = true },
    { event = { type = "file.open", comm = "unix_chkpwd", exe = "/usr/sbin/unix_chkpwd",
                path = "/etc/shadow", flags = 0 }, expect = false },
    { event = { type = "file.open", comm = "cp", path = "/etc/shadow", flags = 0,
                parent = { comm = "passwd" }, ancestors = { { comm = "run-parts" } } },
      expect = false },
    { event = { type = "file.open", comm = "cat", path = "/etc/passwd", flags = 0 },
      expect = false },
    { event = { type = "file.open", comm = "sh", path = "/etc/shadow", flags = 1 },
      expect = false },
    { event = { type = "file.open", comm = "cat", path = "/etc/shadow", flags = 0, ret = -13 },
      expect = false },
  },
}

local PROTECTED_PATHS = { "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/root" }
local PROTECTED = tapio.set(PROTECTED_PATHS)

rule {
  name = "protected_file_access_denied",
  desc = "An attempt to open a file holding credentials or privileges was denied: "
      .. "someone without the rights is looking (needs failed syscalls kept in the "
      .. "kernel, as the security preset does)",
  events = { "file.open" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1003.008", "mitre:T1083" },
  match = { set = { credential_path = true }, ret = { -13, -1 } }, -- EACCES, EPERM; the key: below
  when = function(e)
    return (e.ret == EACCES or e.ret == EPERM)
        and (PROTECTED[e.path] ~= nil or startswith_any(e.path, { "/etc/sudoers.d/",
                                                                  "/root/.ssh/" }))
  end,
  output = "${path} denied (${ret_str}) to " .. WHO,
  tests = {
    { event = { type = "file.open", comm = "cat", uid = 1000, path = "/etc/shadow",
                ret = -13 }, expect = true },
    { event = { type = "file.open", comm = "ls", uid = 1000, path = "/root/.ssh/id_rsa",
                ret = -13 }, expect = true },
    { event = { type = "file.open", comm = "cat", path = "/etc/shadow", ret = 3 },
      expect = false },
    { event = { type = "file.open", comm = "cat", path = "/etc/shadow", ret = -2 },
      expect = false },
  },
}

---------------------------------------------------------------- other processes

-- The kernel names the process whose /proc/PID/{mem,maps,environ} (or
-- task/TID/...) was opened when it is another one (e.proc_target_pid).
local function other_proc(e, file)
  return e.proc_target_pid ~= nil and endswith(e.path, "/" .. file)
end

rule {
  name = "process_memory_read",
  desc = "Another process's memory was opened through /proc/PID/mem: how credentials are "
      .. "dumped from sshd, sudo, browsers or password managers (mimipenguin, gcore)",
  events = { "file.open" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1003.007" },
  match = { set = { credential_path = true }, path_base = "mem" }, -- the key: the shared check below
  when = function(e)
    return e.ret >= 0 and other_proc(e, "mem") and not debugger_on_own_processes(e)
  end,
  output = "memory of process ${proc_target_pid} opened (${path}, ${flags_str}) by " .. WHO,
  tests = {
    -- a developer's gdb on their own program (MEMORY_TOOLS, not root)
    { event = { type = "file.open", comm = "gdb", exe = "/usr/bin/gdb", uid = 1000, flags = 2,
                path = "/proc/42/task/42/mem", proc_target_pid = 42 }, expect = false },
    { event = { type = "file.open", comm = "gdb", exe = "/tmp/gdb", uid = 1000, flags = 2,
                path = "/proc/42/mem", proc_target_pid = 42 }, expect = true },
    { event = { type = "file.open", comm = "python3", path = "/proc/42/mem", flags = 0,
                proc_target_pid = 42 }, expect = true },
    { event = { type = "file.open", comm = "gdb", flags = 2, path = "/proc/42/task/42/mem",
                proc_target_pid = 42 }, expect = true },
    { event = { type = "file.open", comm = "x", path = "/proc/1000/mem", flags = 0 },
      expect = false }, -- its own memory: no proc_target_pid
    { event = { type = "file.open", comm = "x", path = "/proc/42/maps", flags = 0,
                proc_target_pid = 42 }, expect = false },
  },
}

rule {
  name = "process_memory_read_by_syscall",
  desc = "Another process's memory was read with process_vm_readv by a program that is no "
      .. "debugger or profiler: credentials pulled out of sshd, sudo, browsers or password "
      .. "managers without opening /proc/PID/mem or attaching with ptrace",
  events = { "security.process_vm" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1003.007", "mitre:T1055.009" },
  -- the first read of each target per process (dumpers read region by region)
  state = { seen = tapio.map { ttl = "10m" } },
  when = function(e, s)
    if e.ret <= 0 or e.syscall_str ~= "process_vm_readv" then return false end
    local target = e.target_pid
    if target == e.pid or target == e.tid or owner(e, MEMORY_TOOLS) then return false end
    if s.seen:get(e) == target then return false end
    s.seen:set(e, target)
    return true
  end,
  output = "memory of process ${target_pid} read with process_vm_readv (${remote_len} bytes at "
        .. "${remote_addr}, ${remote_iovcnt} ranges) by " .. WHO,
  tests = {
    { event = { type = "security.process_vm", comm = "python3", exe = "/usr/bin/python3",
                pid = 50, syscall = "process_vm_readv", target_pid = 42, remote_addr = 4096,
                remote_len = 64, remote_iovcnt = 1, ret = 64 },
      expect = true,
      output = "memory of process 42 read with process_vm_readv (64 bytes at 4096, 1 ranges) "
            .. "by python3 (pid 50, uid 0, exe /usr/bin/python3, parent ?[1], container host, "
            .. "pod -/-)" },
    -- region after region of one target: one alert
    { events = { { type = "security.process_vm", comm = "x", pid = 51,
                   syscall = "process_vm_readv", target_pid = 42, ret = 4096 },
                 { type = "security.process_vm", comm = "x", pid = 51,
                   syscall = "process_vm_readv", target_pid = 42, ret = 4096 } }, expect = 1 },
    { event = { type = "security.process_vm", comm = "strace", exe = "/usr/bin/strace",
                syscall = "process_vm_readv", target_pid = 42, ret = 16 }, expect = false },
    { event = { type = "security.process_vm", comm = "x", pid = 52,
                syscall = "process_vm_readv", target_pid = 52, ret = 16 }, expect = false },
    { event = { type = "security.process_vm", comm = "x", syscall = "process_vm_readv",
                target_pid = 42, ret = -1 }, expect = false },
    { event = { type = "security.process_vm", comm = "x", syscall = "process_vm_writev",
                target_pid = 42, ret = 16 }, expect = false },
  },
}

-- Programs that read other processes' environments to do their job.
local ENV_READERS = tapio.set { "ps", "htop", "top", "atop", "systemd", "systemd-coredum",
                                "tapio-collector", "lsof", "procs", "glances", "crash" }

rule {
  name = "process_environment_read",
  desc = "Another process's environment was read through /proc/PID/environ: API keys, "
      .. "database passwords and tokens live there",
  events = { "file.open" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1552" },
  match = { set = { credential_path = true }, path_base = "environ" }, -- the key: below
  when = function(e)
    return e.ret >= 0 and other_proc(e, "environ") and not owner(e, ENV_READERS)
  end,
  output = "environment of process ${path} read by " .. WHO,
  tests = {
    { event = { type = "file.open", comm = "cat", path = "/proc/42/environ", flags = 0,
                proc_target_pid = 42 }, expect = true },
    { event = { type = "file.open", comm = "cat", path = "/proc/self/environ", flags = 0 },
      expect = false },
    { event = { type = "file.open", comm = "ps", path = "/proc/42/environ", flags = 0,
                proc_target_pid = 42 }, expect = false },
  },
}

local PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206
local DEBUGGERS = tapio.set { "gdb", "lldb", "strace", "ltrace", "perf" }

rule {
  name = "ptrace_attach",
  desc = "A process attached to another with ptrace: how debuggers start, and how "
      .. "credentials are read from memory",
  events = { "security.ptrace" },
  severity = "warning",
  importance = 0.7,
  tags = { "mitre:T1055.008", "mitre:T1003" },
  when = function(e)
    if e.ret ~= 0 or (e.request ~= PTRACE_ATTACH and e.request ~= PTRACE_SEIZE)
        or owner(e, DEBUGGERS) then
      return false
    end
    -- LeakSanitizer stops the world of an ASan program from a child of it
    -- (same name) that attaches to its parent's threads
    local par = e.parent
    return not (e.target_pid == e.ppid and par and par.comm == e.comm)
  end,
  output = "attached to pid ${target_pid} (${request_str}) by " .. WHO,
  tests = {
    { event = { type = "security.ptrace", comm = "x", request = 16, target_pid = 42 },
      expect = true },
    { event = { type = "security.ptrace", comm = "strace", request = 0x4206, target_pid = 42 },
      expect = false },
    { event = { type = "security.ptrace", comm = "x", request = 16, target_pid = 42, ret = -1 },
      expect = false },
    { event = { type = "security.ptrace", comm = "test_x_asan", request = 0x4206,
                target_pid = 77, ppid = 77, parent = { comm = "test_x_asan" } }, expect = false },
    { event = { type = "security.ptrace", comm = "x", request = 16, target_pid = 77, ppid = 77,
                parent = { comm = "bash" } }, expect = true },
  },
}

---------------------------------------------------------------- secrets in files

-- What a secret file is, and who owns it. match(path) -> true.
local SSH_OWNERS = tapio.set { "ssh", "sshd", "sshd-session", "ssh-add", "ssh-agent",
                               "ssh-keygen", "ssh-keysign", "scp", "sftp", "autossh" }
local GPG_OWNERS = tapio.set { "gpg", "gpg2", "gpg-agent", "gpgsm", "keyboxd" }
local TLS_OWNERS = tapio.set { "nginx", "apache2", "httpd", "haproxy", "postfix", "smtpd",
                               "dovecot", "exim4", "slapd", "stunnel4", "stunnel", "openvpn",
                               "lighttpd", "caddy", "traefik", "envoy", "mosquitto",
                               "certbot", "update-ca-certi" }

local function private_key(p)
  if p:find("/.ssh/", 1, true) then
    local b = basename(p)
    return (b:find("^id_[%w_]+$") ~= nil or endswith(b, ".pem") or endswith(b, ".ppk")
            or endswith(b, ".key")), SSH_OWNERS
  end
  if startswith(p, "/etc/ssh/ssh_host_") and endswith(p, "_key") then return true, SSH_OWNERS end
  if p:find("/.gnupg/private-keys-v1.d/", 1, true) or endswith(p, "/.gnupg/secring.gpg") then
    return true, GPG_OWNERS
  end
  if startswith(p, "/etc/ssl/private/") or startswith(p, "/etc/pki/tls/private/")
      or startswith(p, "/etc/letsencrypt/archive/") then
    return true, TLS_OWNERS
  end
  return false
end

rule {
  name = "private_key_read",
  desc = "A private key was read by a program that does not use it: an SSH key "
      .. "(~/.ssh/id_*, host keys), a GnuPG secret key, a TLS server key. cat, cp, tar, "
      .. "grep and scripts copying keys away",
  events = { "file.open" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1552.004" },
  match = { set = { credential_path = true }, -- the key: the shared check below
            path = { "*/.ssh/*", "/etc/ssh/ssh_host_*", "*/.gnupg/private-keys-v1.d/*",
                     "*/.gnupg/secring.gpg", "/etc/ssl/private/*", "/etc/pki/tls/private/*",
                     "/etc/letsencrypt/archive/*" } },
  when = function(e)
    if not reads(e) then return false end
    local p = e.path
    local ok, owners = private_key(p)
    return ok and not owner(e, owners) and not BACKUP[e.comm]
  end,
  output = "private key ${path} read by " .. WHO,
  tests = {
    { event = { type = "file.open", comm = "cat", path = "/home/ann/.ssh/id_ed25519",
                flags = 0 }, expect = true },
    { event = { type = "file.open", comm = "tar", path = "/root/.ssh/id_rsa", flags = 0 },
      expect = true },
    { event = { type = "file.open", comm = "python3", path = "/etc/ssh/ssh_host_rsa_key",
                flags = 0 }, expect = true },
    { event = { type = "file.open", comm = "cp", flags = 0,
                path = "/home/ann/.gnupg/private-keys-v1.d/AB12.key" }, expect = true },
    { event = { type = "file.open", comm = "ssh", path = "/home/ann/.ssh/id_ed25519",
                flags = 0 }, expect = false },
    { event = { type = "file.open", comm = "nginx", path = "/etc/ssl/private/site.key",
                flags = 0 }, expect = false },
    { event = { type = "file.open", comm = "cat", path = "/home/ann/.ssh/id_ed25519.pub",
                flags = 0 }, expect = false },
    { event = { type = "file.open", comm = "ssh-keygen", path = "/home/ann/.ssh/id_rsa",
                flags = 577 }, expect = false },
  },
}

local CLOUD = {
  { suffix = "/.aws/credentials", owners = { "aws", "aws_completer", "terraform", "packer",
                                             "pulumi", "eksctl", "aws-vault" } },
  { suffix = "/.aws/config", owners = { "aws", "aws_completer", "terraform", "packer", "pulumi",
                                        "eksctl", "aws-vault" } },
  { contains = "/.aws/sso/cache/", owners = { "aws", "aws_completer" } },
  { contains = "/.config/gcloud/", owners = { "gcloud", "gsutil", "bq", "terraform",
                                             "kubectl", "gke-gcloud-auth" } },
  { contains = "/.azure/", owners = { "az", "terraform", "kubelogin" } },
  { suffix = "/.kube/config", owners = { "kubectl", "helm", "k9s", "kubectx", "kubens", "kind",
                                         "minikube", "flux", "argocd", "kustomize", "stern",
                                         "kubeadm", "k3s", "terraform", "kubelogin" } },
  { exact = "/etc/kubernetes/admin.conf", owners = { "kubectl", "kubeadm", "helm" } },
  { exact = "/etc/kubernetes/super-admin.conf", owners = { "kubectl", "kubeadm" } },
  { suffix = "/.docker/config.json", owners = { "docker", "dockerd", "docker-credenti",
                                                "buildah", "podman", "skopeo", "crane",
                                                "containerd", "nerdctl", "kaniko" } },
  { suffix = "/.git-credentials", owners = { "git", "git-credential-" } },
  { suffix = "/.netrc", owners = { "curl", "wget", "ftp", "lftp", "git-remote-http",
                                   "git-remote-https", "fetchmail" } },
  { suffix = "/.pgpass", owners = { "psql", "pg_dump", "pg_dumpall", "pg_restore", "pgbench",
                                    "postgres", "pg_basebackup" } },
  { suffix = "/.my.cnf", owners = { "mysql", "mysqldump", "mariadb", "mariadb-dump",
                                    "mysqladmin", "mysqld", "mariadbd" } },
  { suffix = "/.vault-token", owners = { "vault", "terraform", "consul-template" } },
  { suffix = "/.config/gh/hosts.yml", owners = { "gh" } },
  { suffix = "/.npmrc", owners = { "npm", "node", "yarn", "pnpm" } },
  { suffix = "/.pypirc", owners = { "twine", "python3", "pip", "poetry" } },
  { suffix = "/.terraform.d/credentials.tfrc.json", owners = { "terraform" } },
  { exact = "/var/run/secrets/kubernetes.io/serviceaccount/token", owners = {} },
  { exact = "/run/secrets/kubernetes.io/serviceaccount/token", owners = {} },
}
for _, c in ipairs(CLOUD) do c.owners = tapio.set(c.owners) end
-- What cloud_credential can take, for a match.
local CLOUD_GLOBS = {}
for i, c in ipairs(CLOUD) do
  CLOUD_GLOBS[i] = c.exact or (c.suffix and "*" .. c.suffix) or "*" .. c.contains .. "*"
end

local function cloud_credential(p)
  for i = 1, #CLOUD do
    local c = CLOUD[i]
    if (c.suffix and endswith(p, c.suffix)) or (c.exact and p == c.exact)
        or (c.contains and p:find(c.contains, 1, true)) then
      return c
    end
  end
  return nil
end

-- A pod's own processes read its service account token; only a shell or a
-- tool run in it by hand is news. Anything reading it on the host is.
local SA_TOKEN = "/serviceaccount/token"
local SHELL_TOOLS = tapio.set { "cat", "head", "tail", "less", "more", "cp", "tar", "base64",
                                "xxd", "od", "grep", "strings", "dd", "sh", "bash", "dash", "zsh",
                                "ash", "busybox", "curl", "wget", "nc", "python3", "python",
                                "perl", "ruby" }

rule {
  name = "cloud_credentials_read",
  desc = "A cloud or tool credential file was read by a program that does not use it: "
      .. "AWS, Google Cloud, Azure, kubeconfig, Docker registry logins, git credentials, "
      .. ".netrc, .pgpass, .my.cnf, Vault tokens, a pod's service account token read by "
      .. "a shell tool",
  events = { "file.open" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1552.001", "mitre:T1528" },
  match = { set = { credential_path = true }, path = CLOUD_GLOBS }, -- the key: the shared check below
  when = function(e)
    if not reads(e) then return false end
    local p = e.path
    local c = cloud_credential(p)
    if c == nil or BACKUP[e.comm] then return false end
    if endswith(p, SA_TOKEN) then
      return SHELL_TOOLS[e.comm] ~= nil or e.container.id == nil
    end
    return not owner(e, c.owners)
  end,
  output = "credential file ${path} read by " .. WHO,
  tests = {
    { event = { type = "file.open", comm = "cat", path = "/root/.aws/credentials", flags = 0 },
      expect = true },
    { event = { type = "file.open", comm = "tar", path = "/home/ann/.kube/config", flags = 0 },
      expect = true },
    { event = { type = "file.open", comm = "cp", path = "/home/ann/.docker/config.json",
                flags = 0 }, expect = true },
    { event = { type = "file.open", comm = "cat", flags = 0, container = { id = "abc" },
                path = "/var/run/secrets/kubernetes.io/serviceaccount/token" }, expect = true },
    { event = { type = "file.open", comm = "app", flags = 0, container = { id = "abc" },
                path = "/var/run/secrets/kubernetes.io/serviceaccount/token" }, expect = false },
    { event = { type = "file.open", comm = "aws", path = "/root/.aws/credentials", flags = 0 },
      expect = false },
    { event = { type = "file.open", comm = "kubectl", path = "/home/ann/.kube/config",
                flags = 0 }, expect = false },
    { event = { type = "file.open", comm = "kubectl", path = "/home/ann/.kube/config",
                flags = 577 }, expect = false },
    { event = { type = "file.open", comm = "cat", path = "/home/ann/.kube/cache/x", flags = 0 },
      expect = false },
  },
}

local BROWSER_FILES = tapio.set { "logins.json", "key4.db", "key3.db", "signons.sqlite",
                                  "cookies.sqlite", "Login Data", "Login Data For Account",
                                  "Cookies", "Web Data", "Local State" }
local BROWSERS = tapio.set { "firefox", "firefox-esr", "firefox-bin", "chrome", "chromium",
                             "chromium-browse", "google-chrome", "brave", "brave-browser",
                             "msedge", "opera", "vivaldi", "vivaldi-bin", "thunderbird",
                             "GeckoMain", "Web Content", "Socket Process", "Isolated Web Co" }

local BROWSER_DIRS = { "/.mozilla/", "/.config/google-chrome/", "/.config/chromium/",
                       "/.config/BraveSoftware/", "/.config/microsoft-edge/", "/.config/opera/",
                       "/.config/vivaldi/", "/.thunderbird/", "/snap/firefox/" }

local function contains_any(p, parts)
  for i = 1, #parts do
    if p:find(parts[i], 1, true) then return true end
  end
  return false
end

local function browser_store(p)
  return BROWSER_FILES[basename(p)] ~= nil and contains_any(p, BROWSER_DIRS)
end

rule {
  name = "browser_credentials_read",
  desc = "A browser's saved passwords, cookies or their key (Firefox logins.json, key4.db; "
      .. "Chrome's Login Data, Cookies, Local State) were read by a program that is not the "
      .. "browser",
  events = { "file.open" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1555.003", "mitre:T1539" },
  match = { set = { credential_path = true }, path_base = BROWSER_FILES }, -- the key: below
  when = function(e)
    return reads(e) and browser_store(e.path) and not BROWSERS[e.comm] and not BACKUP[e.comm]
  end,
  output = "browser credential store ${path} read by " .. WHO,
  tests = {
    { event = { type = "file.open", comm = "python3", flags = 0,
                path = "/home/ann/.mozilla/firefox/ab.default/logins.json" }, expect = true },
    { event = { type = "file.open", comm = "cp", flags = 0,
                path = "/home/ann/.config/google-chrome/Default/Login Data" }, expect = true },
    { event = { type = "file.open", comm = "firefox", flags = 2,
                path = "/home/ann/.mozilla/firefox/ab.default/key4.db" }, expect = false },
    { event = { type = "file.open", comm = "cat", flags = 0,
                path = "/home/ann/.mozilla/firefox/ab.default/prefs.js" }, expect = false },
  },
}

local STORE_OWNERS = tapio.set { "gnome-keyring-d", "gnome-keyring", "seahorse", "keepassxc",
                                 "keepassxc-cli", "keepass2", "kwalletd5", "kwalletd6",
                                 "ksecretd", "pass", "gpg", "gpg2", "gpg-agent", "secret-tool",
                                 "1password", "bitwarden" }

local KEYRING_DIRS = { "/.local/share/keyrings/", "/.local/share/kwalletd/" }

local function password_store(p)
  return contains_any(p, KEYRING_DIRS) or endswith(p, ".kdbx") or endswith(p, ".kdb")
      or (p:find("/.password-store/", 1, true) ~= nil and endswith(p, ".gpg"))
end

rule {
  name = "password_store_read",
  desc = "A password manager's store was read by a program that is not the manager: GNOME "
      .. "keyrings, KWallet, KeePass databases, pass(1)",
  events = { "file.open" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1555" },
  match = { set = { credential_path = true }, -- the key: the shared check below
            path = { "*/.local/share/keyrings/*", "*/.local/share/kwalletd/*", "*.kdbx", "*.kdb",
                     "*/.password-store/*" } },
  when = function(e)
    return reads(e) and password_store(e.path) and not owner(e, STORE_OWNERS)
        and not BACKUP[e.comm]
  end,
  output = "password store ${path} read by " .. WHO,
  tests = {
    { event = { type = "file.open", comm = "cp", path = "/home/ann/Documents/vault.kdbx",
                flags = 0 }, expect = true },
    { event = { type = "file.open", comm = "cat", flags = 0,
                path = "/home/ann/.local/share/keyrings/login.keyring" }, expect = true },
    { event = { type = "file.open", comm = "keepassxc", path = "/home/ann/vault.kdbx",
                flags = 0 }, expect = false },
  },
}

local KRB_OWNERS = tapio.set { "kinit", "klist", "kdestroy", "kvno", "ktutil", "sshd",
                               "sshd-session", "sssd", "sssd_be", "sssd_pam", "sssd_nss",
                               "gssproxy", "rpc.gssd", "krb5kdc", "kadmind", "winbindd", "smbd",
                               "adcli", "realm", "net", "msktutil", "k5start", "certmonger",
                               "nfsd", "rpc.svcgssd", "ssh", "curl", "ldapsearch", "git" }

local function kerberos(p)
  return startswith(p, "/tmp/krb5cc_") or startswith(p, "/var/lib/sss/db/ccache_")
      or endswith(p, ".keytab") or (startswith(p, "/run/user/") and p:find("/krb5cc", 1, true)
                                    ~= nil)
end

rule {
  name = "kerberos_credentials_read",
  desc = "Kerberos tickets or keys were read by a program that does not use them: a "
      .. "ticket cache (/tmp/krb5cc_*, sssd's ccache) or a keytab (/etc/krb5.keytab): "
      .. "pass-the-ticket material",
  events = { "file.open" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1558.005", "mitre:T1552.004" },
  match = { set = { credential_path = true }, -- the key: the shared check below
            path = { "/tmp/krb5cc_*", "/var/lib/sss/db/ccache_*", "*.keytab", "/run/user/*" } },
  when = function(e)
    return reads(e) and kerberos(e.path) and not owner(e, KRB_OWNERS) and not BACKUP[e.comm]
  end,
  output = "Kerberos credentials ${path} read by " .. WHO,
  tests = {
    { event = { type = "file.open", comm = "cp", path = "/tmp/krb5cc_1000", flags = 0 },
      expect = true },
    { event = { type = "file.open", comm = "python3", path = "/etc/krb5.keytab", flags = 0 },
      expect = true },
    { event = { type = "file.open", comm = "klist", path = "/tmp/krb5cc_1000", flags = 0 },
      expect = false },
  },
}

---------------------------------------------------------------- history

local HISTORY = {
  [".bash_history"] = { "bash" }, [".zsh_history"] = { "zsh" }, [".zhistory"] = { "zsh" },
  [".sh_history"] = { "sh", "ksh", "mksh", "dash" }, [".ash_history"] = { "ash", "busybox", "sh" },
  [".history"] = { "csh", "tcsh" }, [".histfile"] = { "zsh" },
  [".python_history"] = { "python", "python3", "python2" },
  [".mysql_history"] = { "mysql", "mariadb" }, [".psql_history"] = { "psql" },
  [".sqlite_history"] = { "sqlite3" }, [".rediscli_history"] = { "redis-cli" },
  [".node_repl_history"] = { "node" }, [".lesshst"] = { "less" }, [".viminfo"] = { "vim", "vi",
                                                                                    "vim.basic" },
  ["fish_history"] = { "fish" }, [".irb_history"] = { "irb", "ruby" },
  [".mongosh_history"] = { "mongosh" },
}
for k, v in pairs(HISTORY) do HISTORY[k] = tapio.set(v) end
local HISTORY_NAMES = {}
for name in pairs(HISTORY) do HISTORY_NAMES[#HISTORY_NAMES + 1] = name end

rule {
  name = "shell_history_read",
  desc = "A shell or client history file (.bash_history, .zsh_history, .mysql_history, "
      .. ".psql_history...) was read by a program other than the one that keeps it: "
      .. "passwords typed on command lines end up there",
  events = { "file.open" },
  severity = "warning",
  importance = 0.75,
  tags = { "mitre:T1552.003" },
  match = { set = { credential_path = true }, path_base = HISTORY_NAMES }, -- the key: below
  when = function(e)
    if not reads(e) or (e.flags & 512) ~= 0 then return false end -- O_TRUNC: clearing
    local keeper = HISTORY[basename(e.path)]
    return keeper ~= nil and not keeper[e.comm] and not BACKUP[e.comm]
  end,
  output = "history ${path} read by " .. WHO,
  tests = {
    { event = { type = "file.open", comm = "cat", path = "/root/.bash_history", flags = 0 },
      expect = true },
    { event = { type = "file.open", comm = "grep", path = "/home/ann/.mysql_history",
                flags = 0 }, expect = true },
    { event = { type = "file.open", comm = "bash", path = "/root/.bash_history", flags = 0 },
      expect = false },
    { event = { type = "file.open", comm = "bash", path = "/root/.bash_history", flags = 1025 },
      expect = false },
    { event = { type = "file.open", comm = "psql", path = "/var/lib/postgresql/.psql_history",
                flags = 2 }, expect = false },
  },
}

---------------------------------------------------------------- other names

-- A credential file given a second name: a hard link or a bind mount shows
-- the same file at a path no rule above watches, so it is read from there
-- unseen (a symlink or /proc/self/root needs no rule: the kernel reports
-- the file's own path).
local MS_BIND = 4096
local function aliased(p)
  if p == nil then return false end
  return SHADOW[p] ~= nil or (private_key(p)) or (p:find("/.", 1, true) ~= nil
                                                  and (cloud_credential(p)))
end

rule {
  name = "credential_file_aliased",
  desc = "A password hash file, a private key or a cloud credential was hard-linked or "
      .. "bind-mounted to another path, where it can be read without touching the "
      .. "watched name",
  events = { "file.link", "container.mount" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1003.008", "mitre:T1552.004", "mitre:T1036" },
  when = function(e)
    if e.ret < 0 then return false end
    if e.type == "file.link" then return aliased(e.oldpath) and not owner(e, BACKUP) end
    return (e.flags & MS_BIND) ~= 0 and aliased(e.source)
  end,
  output = "${oldpath|source} made visible as ${newpath|target} (${type}) by " .. WHO,
  tests = {
    { event = { type = "file.link", comm = "ln", oldpath = "/etc/shadow", newpath = "/tmp/x" },
      expect = true,
      output = "/etc/shadow made visible as /tmp/x (file.link) by ln (pid 1000, uid 0, exe ?, "
            .. "parent ?[1], container host, pod -/-)" },
    { event = { type = "file.link", comm = "python3", oldpath = "/root/.ssh/id_ed25519",
                newpath = "/var/tmp/k" }, expect = true },
    { event = { type = "container.mount", comm = "mount", source = "/etc/shadow",
                target = "/tmp/b", flags = 4096, fstype = "" }, expect = true },
    { event = { type = "container.mount", comm = "mount", source = "/home/ann/.aws/credentials",
                target = "/tmp/c", flags = 4096 | 16384 }, expect = true },
    { event = { type = "file.link", comm = "useradd", oldpath = "/etc/shadow.123",
                newpath = "/etc/shadow.lock" }, expect = false },
    { event = { type = "file.link", comm = "rsnapshot", exe = "/usr/bin/rsnapshot",
                oldpath = "/etc/shadow", newpath = "/backup/etc/shadow" }, expect = false },
    { event = { type = "container.mount", comm = "runc:[2:INIT]", source = "/etc/hosts",
                target = "/run/c/rootfs/etc/hosts", flags = 4096 }, expect = false },
    { event = { type = "container.mount", comm = "mount", source = "/etc/shadow",
                target = "/tmp/b", flags = 0 }, expect = false },
    { event = { type = "file.link", comm = "ln", oldpath = "/etc/shadow", newpath = "/tmp/x",
                ret = -1 }, expect = false },
  },
}

---------------------------------------------------------------- the shared check

-- Once per open, for every file rule above: whether the path is a
-- credential of any kind they watch (set as e.credential_path), and
-- whether a read took it from its owners (e.credential_taken, for the
-- rules by state below); the rules match on those keys in C.
local DENIABLE = { "/etc/sudoers.d/", "/root/.ssh/" }
-- Where the credentials outside dot directories live.
local OTHER_PLACES = { "/etc/ssh/ssh_host_", "/etc/ssl/private/", "/etc/pki/tls/private/",
                       "/etc/letsencrypt/archive/", "/etc/kubernetes/", "/var/run/secrets/",
                       "/run/secrets/", "/tmp/krb5cc_", "/var/lib/sss/db/ccache_", "/run/user/" }
-- Every path the function below can set, for the engine to check in C
-- first: most opens (libraries, /proc, configuration) never call it.
-- Keep it a superset of the function's tests.
-- Under a dot directory, only what the classifiers below can take: a
-- history file, an SSH or GnuPG key, a cloud or tool credential, a browser's
-- or a password manager's store (~/.config/app/app.conf never calls it).
local CREDENTIAL_CANDIDATES = { "*/mem", "*/environ", "*.keytab", "*.kdbx", "*.kdb",
                                "*/.ssh/*", "*/.gnupg/*", "*/.password-store/*" }
local function candidates(list, before, after)
  for _, p in ipairs(list) do
    CREDENTIAL_CANDIDATES[#CREDENTIAL_CANDIDATES + 1] = before .. p .. after
  end
end
candidates(SHADOW_PATHS, "", "")
candidates(PROTECTED_PATHS, "", "")
candidates(DENIABLE, "", "*")
candidates(OTHER_PLACES, "", "*")
candidates(BROWSER_DIRS, "*", "*")
candidates(KEYRING_DIRS, "*", "*")
for name in pairs(HISTORY) do candidates({ name }, "*/", "") end
for _, c in ipairs(CLOUD) do
  candidates({ c.suffix or c.exact or c.contains }, c.exact and "" or "*", c.contains and "*" or "")
end
-- The credential a successful read of p (a credential path) took, when the
-- reader is none of its owners (nor a backup agent): the same judgement as
-- the rules above, for every kind at once. nil otherwise.
local function taken_credential(e, p)
  if not reads(e) or e.proc_target_pid ~= nil or BACKUP[e.comm] then return nil end
  local owners
  if SHADOW[p] then
    owners = AUTH
  else
    local ok, keyowners = private_key(p)
    if ok then
      owners = keyowners
    else
      local c = cloud_credential(p)
      if c then
        owners = c.owners
      elseif browser_store(p) then
        owners = BROWSERS
      elseif password_store(p) then
        owners = STORE_OWNERS
      elseif kerberos(p) then
        owners = KRB_OWNERS
      else
        owners = HISTORY[basename(p)]
        if owners == nil then return nil end
        return not owners[e.comm] and p or nil
      end
    end
  end
  return not owner(e, owners) and p or nil
end

enrich({ "file.open" }, { match = { path = CREDENTIAL_CANDIDATES } }, function(e)
  local ret = e.ret
  if ret < 0 and ret ~= EACCES and ret ~= EPERM then return end
  if (e.flags & O_ACCMODE) == 1 then return end -- write-only: not a read
  local p = e.path
  local hit
  if ret < 0 then
    hit = PROTECTED[p] or startswith_any(p, DENIABLE)
  elseif SHADOW[p] then
    hit = true
  elseif e.proc_target_pid ~= nil then
    hit = endswith(p, "/mem") or endswith(p, "/environ")
  elseif p:find("/.", 1, true) then
    hit = HISTORY[basename(p)] or private_key(p) or cloud_credential(p) or browser_store(p)
        or password_store(p) or kerberos(p)
  elseif startswith_any(p, OTHER_PLACES) or endswith(p, ".keytab") or endswith(p, ".kdbx")
      or endswith(p, ".kdb") then
    hit = private_key(p) or cloud_credential(p) or kerberos(p) or password_store(p)
  end
  if not hit then return end
  e:set("credential_path", p)
  -- and for the rules by state below, once: a credential taken from its owners
  local taken = ret >= 0 and taken_credential(e, p)
  if taken then e:set("credential_taken", taken) end
end)

---------------------------------------------------------------- by state

local function leaves_host(e)
  local a = e.daddr
  return (e.family == 2 or e.family == 10) and e.dport ~= 0 and a ~= nil
      and not startswith(a, "127.") and a ~= "::1" and not startswith(a, "::ffff:127.")
      and a ~= "0.0.0.0" and a ~= "::" and (e.ret >= 0 or e.ret == -115)
end

rule {
  name = "credential_read_then_sent_out",
  desc = "A process read a credential it does not own (password hashes, a private key, "
      .. "cloud or tool credentials, a browser or password store, Kerberos tickets, a "
      .. "history file) and then opened a connection off this host: credentials being "
      .. "stolen, whatever tool or language carries them",
  events = { "file.open", "network.connect" },
  match = { ["file.open"] = { set = { credential_taken = true } }, -- the shared check above
            ["network.connect"] = { family = { 2, 10 } } },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1041", "mitre:T1552.001", "mitre:T1552.004", "mitre:T1003.008" },
  state = { took = tapio.map { ttl = "5m" } },
  -- a read that took a credential marks its process (no Lua call); a
  -- connect reaches when only from a process so marked
  remember = { ["file.open"] = "took" },
  recall = { ["network.connect"] = "took" },
  when = function(e, s)
    if not leaves_host(e) then return false end
    s.took:set(e, nil) -- one alert per read
    return true
  end,
  output = "connected to ${daddr}:${dport} after reading a credential it does not own: "
        .. WHO .. "; command: ${argv|'?'}",
  tests = {
    { events = { { type = "file.open", comm = "python3", pid = 70, flags = 0,
                   path = "/home/ann/.aws/credentials" },
                 { type = "network.connect", comm = "python3", pid = 70, family = 2,
                   daddr = "203.0.113.9", dport = 443, argv = { "python3", "x.py" } } },
      expect = 2,
      output = "connected to 203.0.113.9:443 after reading a credential it does not own: "
            .. "python3 (pid 70, uid 0, exe ?, parent ?[1], container host, pod -/-); "
            .. "command: python3 x.py" },
    { events = { { type = "file.open", comm = "curl", pid = 71, flags = 0,
                   path = "/etc/shadow" },
                 { type = "network.connect", comm = "curl", pid = 71, family = 10,
                   daddr = "2001:db8::5", dport = 80, ret = -115 } }, expect = 2 },
    -- the owner: ssh reads its key, then connects
    { events = { { type = "file.open", comm = "ssh", pid = 72, flags = 0,
                   path = "/home/ann/.ssh/id_ed25519" },
                 { type = "network.connect", comm = "ssh", pid = 72, family = 2,
                   daddr = "203.0.113.9", dport = 22 } }, expect = false },
    -- to loopback, or another process
    { events = { { type = "file.open", comm = "cat", pid = 73, flags = 0,
                   path = "/root/.ssh/id_rsa" },
                 { type = "network.connect", comm = "cat", pid = 73, family = 2,
                   daddr = "127.0.0.1", dport = 8080 },
                 { type = "network.connect", comm = "curl", pid = 74, family = 2,
                   daddr = "203.0.113.9", dport = 443 } }, expect = false },
    -- a service that reads its database password and talks to the local
    -- database keeps its credential, and alerts when it leaves the host
    { events = { { type = "file.open", comm = "app", pid = 75, flags = 0,
                   path = "/home/app/.pgpass" },
                 { type = "network.connect", comm = "app", pid = 75, family = 2,
                   daddr = "127.0.0.1", dport = 5432 },
                 { type = "network.connect", comm = "app", pid = 75, family = 10,
                   daddr = "::ffff:127.0.0.1", dport = 5432 },
                 { type = "network.connect", comm = "app", pid = 75, family = 2,
                   daddr = "203.0.113.9", dport = 443 } }, expect = 4 },
  },
}
-- Connections that stay on this host are no exfiltration (leaves_host
-- says so again): turned away in C, without the Lua call that a service
-- reading its credentials and talking to a local database would make on
-- every connect.
exception { rule = "credential_read_then_sent_out",
            daddr = { "127.*", "::1", "::ffff:127.*", "0.0.0.0", "::" },
            reason = "a connection that stays on this host" }

-- A test event: comm read path, at a time.
local function opened(comm, path, at)
  return { type = "file.open", comm = comm, flags = 0, path = path, at = at }
end

rule {
  name = "credential_files_read_in_burst",
  desc = "One process read four or more different credentials it does not own within a "
      .. "minute (keys, cloud and tool credentials, stores, hashes, histories): a stealer or "
      .. "an archive of someone's secrets being made",
  events = { "file.open" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1552.001", "mitre:T1552.004", "mitre:T1555", "mitre:T1119" },
  match = { set = { credential_taken = true } }, -- set by the shared check above
  state = { files = tapio.distinct { window = "60s", max_values = 64 } },
  when = function(e, s)
    local n, new = s.files:add(e, e.credential_taken)
    return new and n == 4
  end,
  output = "4 credentials read within a minute, the last ${path}, by " .. WHO
        .. "; command: ${argv|'?'}",
  tests = {
    { events = { opened("tar", "/home/a/.ssh/id_rsa"),
                 opened("tar", "/home/a/.aws/credentials", "1s"),
                 opened("tar", "/home/a/.kube/config", "2s"),
                 opened("tar", "/home/a/.docker/config.json", "3s"),
                 opened("tar", "/home/a/.netrc", "4s") },
      expect = 4 },
    -- the same file four times
    { events = { { type = "file.open", comm = "cat", flags = 0, path = "/root/.ssh/id_rsa",
                   times = 4 } }, expect = false },
    -- spread over more than a minute
    { events = { opened("tar", "/home/a/.ssh/id_rsa"),
                 opened("tar", "/home/a/.aws/credentials", "70s"),
                 opened("tar", "/home/a/.kube/config", "140s"),
                 opened("tar", "/home/a/.netrc", "210s") }, expect = false },
    -- an owner (ssh tries each of its keys)
    { events = { opened("ssh", "/home/a/.ssh/id_rsa"),
                 opened("ssh", "/home/a/.ssh/id_ecdsa"),
                 opened("ssh", "/home/a/.ssh/id_ed25519"),
                 opened("ssh", "/home/a/.ssh/id_dsa") }, expect = false },
  },
}

---------------------------------------------------------------- searching

local SEARCHERS = tapio.set { "find", "locate", "mlocate", "plocate", "slocate", "fd", "fdfind",
                              "grep", "egrep", "fgrep", "rg", "ag", "ack", "ugrep", "git",
                              "findstr" }
-- What people look for when they look for credentials (lower case).
local WANTED = {
  "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "authorized_keys", "private key", "private_key",
  "begin rsa", "begin openssh", "begin ec private", "begin pgp private", ".pem", ".ppk",
  ".kdbx", ".keytab", "krb5cc", "aws_secret_access_key", "aws_access_key_id", ".aws/credentials",
  "credentials.db", ".git-credentials", ".netrc", ".pgpass", ".my.cnf", "wallet.dat",
  "logins.json", "key4.db", "login data", ".vault-token", "kubeconfig", ".kube/config",
  "id_*", "*.pem", "*.key", "shadow.bak", "passwd.bak", "password=", "passwd=", "secret_key",
  "api_key", "apikey", "access_token", "client_secret",
}

rule {
  name = "credential_files_searched",
  desc = "A search for credentials: find, locate or grep for SSH keys, private keys, cloud "
      .. "credentials, keytabs, wallets or password assignments",
  events = { "process.exec" },
  -- set by the shared check below to the program's name: a search tool's
  -- (a fetcher's is the metadata rule's), checked in C with no Lua call
  match = { set = { credential_exec = SEARCHERS } },
  severity = "warning",
  importance = 0.75,
  tags = { "mitre:T1552.001", "mitre:T1083" },
  when = function(e)
    if e.credential_exec == nil then return false end -- set by the shared check below
    if e.ret ~= 0 or not SEARCHERS[basename(e.filename)] then return false end
    local argv = e.argv
    if argv == nil or #argv < 2 then return false end
    -- git grep in a repository is code review, not a hunt
    if argv[2] == "grep" and basename(e.filename) == "git" then return false end
    local c = e.cmdline:lower()
    for i = 1, #WANTED do
      if c:find(WANTED[i], 1, true) then return true end
    end
    return false
  end,
  output = "credential search: ${cmdline}; " .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "find", filename = "/usr/bin/find",
                argv = { "find", "/", "-name", "id_rsa*" } }, expect = true },
    { event = { type = "process.exec", comm = "grep", filename = "/usr/bin/grep",
                argv = { "grep", "-rl", "BEGIN RSA PRIVATE KEY", "/home" } }, expect = true },
    { event = { type = "process.exec", comm = "locate", filename = "/usr/bin/locate",
                argv = { "locate", ".aws/credentials" } }, expect = true },
    { event = { type = "process.exec", comm = "find", filename = "/usr/bin/find",
                argv = { "find", "/srv", "-name", "*.log" } }, expect = false },
    { event = { type = "process.exec", comm = "grep", filename = "/usr/bin/grep",
                argv = { "grep", "-n", "TODO", "main.c" } }, expect = false },
    { event = { type = "process.exec", comm = "cat", filename = "/usr/bin/cat",
                argv = { "cat", "id_rsa" } }, expect = false },
    -- a fetcher (the metadata rule's) is no search tool
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "-c", "print('id_rsa')" } }, expect = false },
  },
}

local METADATA = { "169.254.169.254", "metadata.google.internal", "fd00:ec2::254",
                   "169.254.170.2", "100.100.100.200" }
local METADATA_GLOBS = {}
for i, host in ipairs(METADATA) do METADATA_GLOBS[i] = "*" .. host .. "*" end
local METADATA_SECRETS = { "security-credentials", "service-accounts", "/token", "identity",
                           "computemetadata", "user-data", "oauth2", "ecs/credentials",
                           "v2/credentials", "ram/security-credentials" }

rule {
  name = "cloud_metadata_credentials_requested",
  desc = "A command asked the cloud instance metadata service for credentials (an IAM role's "
      .. "keys, a service account token, user data): curl/wget/python to 169.254.169.254 "
      .. "or metadata.google.internal",
  events = { "process.exec" },
  match = { set = { credential_exec = true }, -- set by the shared check below
            cmdline = METADATA_GLOBS },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1552.005" },
  when = function(e)
    if e.credential_exec == nil then return false end -- set by the shared check below
    if e.ret ~= 0 then return false end
    local c = e.cmdline
    if c == nil then return false end
    local hit = false
    for i = 1, #METADATA do
      if c:find(METADATA[i], 1, true) then hit = true break end
    end
    if not hit then return false end
    c = c:lower()
    for i = 1, #METADATA_SECRETS do
      if c:find(METADATA_SECRETS[i], 1, true) then return true end
    end
    return false
  end,
  output = "instance metadata credentials requested: ${cmdline}; " .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "curl", filename = "/usr/bin/curl",
                argv = { "curl", "-s",
                         "http://169.254.169.254/latest/meta-data/iam/security-credentials/" } },
      expect = true },
    { event = { type = "process.exec", comm = "wget", filename = "/usr/bin/wget",
                argv = { "wget", "-qO-", "--header=Metadata-Flavor: Google",
                         "http://metadata.google.internal/computeMetadata/v1/instance/"
                           .. "service-accounts/default/token" } }, expect = true },
    { event = { type = "process.exec", comm = "curl", filename = "/usr/bin/curl",
                argv = { "curl", "http://169.254.169.254/latest/meta-data/instance-type" } },
      expect = false },
    { event = { type = "process.exec", comm = "curl", filename = "/usr/bin/curl",
                argv = { "curl", "https://example.test/token" } }, expect = false },
  },
}

-- Once per exec, for the two exec rules above: a search tool, or a program
-- that can ask a metadata service over HTTP (set as e.credential_exec).
local FETCHERS = tapio.set { "curl", "wget", "python", "python2", "python3", "perl", "ruby", "node",
                             "php", "lua", "nc", "ncat", "netcat", "socat", "busybox", "http",
                             "https", "lwp-request", "GET", "pwsh", "sh", "bash", "dash", "zsh" }
enrich({ "process.exec" },
       { match = { ret = 0, one_of = { { filename_base = SEARCHERS }, { filename_base = FETCHERS } } },
         set = { credential_exec = "filename_base" } })

-- Privilege escalation (ATT&CK TA0004): identity changes to root by a
-- process that was not root, dangerous capabilities gained, set-uid and
-- capability bits set on files, user namespaces as a step to kernel
-- exploits.

local CLONE_NEWUSER = 0x10000000

local CAP = { setgid = 6, setuid = 7, net_admin = 12, sys_module = 16,
              sys_rawio = 17, sys_ptrace = 19, sys_admin = 21, perfmon = 38, bpf = 39,
              dac_read_search = 2 }
local DANGEROUS = 0
for _, bit in pairs(CAP) do DANGEROUS = DANGEROUS | (1 << bit) end
-- A root process that changed its uid with PR_SET_KEEPCAPS (setpriv,
-- capsh, daemons dropping privileges) still holds root's whole permitted
-- set (41 capabilities on 6.x, fewer where the bounding set lacks some)
-- when it raises some back into its effective set: a privilege drop, not
-- a gain.
local function root_set(caps)
  local n = 0
  while caps ~= 0 do
    caps = caps & (caps - 1)
    n = n + 1
  end
  return n >= 32
end

rule {
  name = "unprivileged_process_became_root",
  desc = "A process that was not root changed its user id to root: sudo and su start "
      .. "as root (set-uid binaries), so this is an exploit or a misconfiguration",
  events = { "security.setuid" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1068", "mitre:T1548" },
  when = function(e)
    return e.ret == 0 and e.old_uid ~= 0 and e.old_euid ~= 0
        and (e.new_uid == 0 or e.new_euid == 0)
  end,
  output = "${comm} (pid ${pid}) became root: uid ${old_uid}->${new_uid}, "
        .. "euid ${old_euid}->${new_euid}",
  tests = {
    { event = { type = "security.setuid", comm = "exploit", uid = 1000, old_uid = 1000,
                old_euid = 1000, new_uid = 0, new_euid = 0 },
      expect = true,
      output = "exploit (pid 1000) became root: uid 1000->0, euid 1000->0" },
    { event = { type = "security.setuid", comm = "sudo", old_uid = 1000, old_euid = 0,
                new_uid = 0, new_euid = 0 }, expect = false },
    { event = { type = "security.setuid", comm = "sshd", old_uid = 0, old_euid = 0,
                new_uid = 1000, new_euid = 1000 }, expect = false },
    { event = { type = "security.setuid", comm = "x", old_uid = 1000, old_euid = 1000,
                new_uid = 0, new_euid = 0, ret = -1 }, expect = false },
  },
}

rule {
  name = "unprivileged_process_became_root_group",
  desc = "A process outside the root group changed its group id to root",
  events = { "security.setgid" },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1068", "mitre:T1548" },
  when = function(e)
    return e.ret == 0 and e.old_gid ~= 0 and e.old_egid ~= 0
        and (e.new_gid == 0 or e.new_egid == 0)
  end,
  output = "${comm} (pid ${pid}, uid ${uid}) joined group root: gid ${old_gid}->${new_gid}, "
        .. "egid ${old_egid}->${new_egid}",
  tests = {
    { event = { type = "security.setgid", comm = "x", old_gid = 1000, old_egid = 1000,
                new_gid = 0, new_egid = 0 }, expect = true },
    { event = { type = "security.setgid", comm = "newgrp", old_gid = 1000, old_egid = 0,
                new_gid = 0, new_egid = 0 }, expect = false },
  },
}

rule {
  name = "dangerous_capability_gained",
  desc = "A process not running as root raised a capability that amounts to root "
      .. "(sys_admin, sys_module, sys_ptrace, bpf, setuid...) into its effective set, "
      .. "without holding every capability (as a root process dropping its uid does)",
  events = { "security.capset" },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1548", "mitre:T1068" },
  when = function(e)
    local gained = e.effective & ~e.old_effective
    return e.ret == 0 and e.uid ~= 0 and (gained & DANGEROUS) ~= 0
        and not root_set(e.permitted)
  end,
  output = "${comm} (pid ${pid}, uid ${uid}) raised its effective capabilities to "
        .. "${effective_str}",
  tests = {
    { event = { type = "security.capset", comm = "x", uid = 1000, old_effective = 0,
                effective = 1 << 21 }, expect = true },
    { event = { type = "security.capset", comm = "x", uid = 1000, old_effective = 0,
                effective = 1 << 16, permitted = 1 << 16 }, expect = true },
    { event = { type = "security.capset", comm = "ping", uid = 1000, old_effective = 0,
                effective = 1 << 13, permitted = 1 << 13 }, expect = false },
    { event = { type = "security.capset", comm = "setpriv", uid = 1000, old_effective = 0,
                effective = 0x1fffeffffff, permitted = 0x1fffeffffff }, expect = false },
    { event = { type = "security.capset", comm = "x", uid = 1000, old_effective = 1 << 21,
                effective = 1 << 21 }, expect = false },
    { event = { type = "security.capset", comm = "runc", uid = 0, old_effective = 0,
                effective = 1 << 21 }, expect = false },
    { event = { type = "security.capset", comm = "x", uid = 1000, old_effective = 0,
                effective = 1 << 10 }, expect = false },
  },
}

-- Programs that build sandboxes or rootless containers with user namespaces.
local SANDBOXES = tapio.set { "chrome", "chromium", "firefox", "firefox-esr", "flatpak", "bwrap",
                              "podman", "buildah", "rootlesskit", "newuidmap",
                              "slirp4netns", "conmon", "crun", "runc" }

rule {
  name = "user_namespace_by_unprivileged",
  desc = "A process not running as root created a user namespace, where it is root: "
      .. "the first step of many kernel exploits",
  events = { "container.unshare" },
  severity = "notice",
  importance = 0.55,
  tags = { "mitre:T1068", "container" },
  when = function(e)
    -- ret: 0 for unshare, the child's pid for clone/clone3, -errno on failure
    return e.ret >= 0 and e.uid ~= 0 and (e.flags & CLONE_NEWUSER) ~= 0
        and not SANDBOXES[e.comm]
  end,
  output = "${comm} (pid ${pid}, uid ${uid}) created a user namespace (${flags_str})",
  tests = {
    { event = { type = "container.unshare", comm = "exploit", uid = 1000,
                flags = 0x10000000 | 0x20000 }, expect = true },
    { event = { type = "container.unshare", comm = "exploit", uid = 1000, syscall = 46,
                ret = 4242, flags = 0x10000000 }, expect = true },
    { event = { type = "container.unshare", comm = "exploit", uid = 1000, ret = -1,
                flags = 0x10000000 }, expect = false },
    { event = { type = "container.unshare", comm = "podman", uid = 1000, flags = 0x10000000 },
      expect = false },
    { event = { type = "container.unshare", comm = "x", uid = 0, flags = 0x10000000 },
      expect = false },
    { event = { type = "container.unshare", comm = "x", uid = 1000, flags = 0x20000 },
      expect = false },
  },
}

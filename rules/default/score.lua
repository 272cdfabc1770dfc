-- Importance of events that are not alerts: the semantic path.
--
-- Raw storage keeps every event. The outputs (stdout, the server, OTLP,
-- replay) get the alerts, and the events scored at or above
-- rules.importance_threshold: 0.7 by default, so only what scores 0.7 or
-- more below shows up beside the alerts; 0.5-0.6 is context a lower
-- threshold (or a query over raw storage) brings back. An idle node scores
-- nothing at 0.7: no line on stdout until someone does something worth a
-- look. `-a` shows every event.
--
--   0.9  a kernel module loaded
--   0.7  privilege, account and namespace tools run; raw network tools
--        (nc, socat, nmap...) run; ptrace attach; a non-root process
--        became root
--   0.6  container admin tools; a mount by something that does not manage
--        mounts
--   0.5  downloaders and remote shells (curl, ssh...); a process killed by
--        an unusual signal

local PRIVILEGE_TOOLS = tapio.set {
  "sudo", "su", "pkexec", "doas", "passwd", "chpasswd", "chage", "gpasswd",
  "useradd", "userdel", "usermod", "adduser", "deluser", "newusers",
  "groupadd", "groupdel", "groupmod", "addgroup", "delgroup", "visudo", "vipw", "vigr",
  "setcap", "chattr", "insmod", "modprobe", "rmmod",
  "nsenter", "unshare", "capsh",
}
local RAW_NETWORK_TOOLS = tapio.set { "nc", "ncat", "netcat", "socat", "nmap", "telnet", "tftp" }
local CONTAINER_TOOLS = tapio.set { "kubectl", "crictl", "docker", "ctr", "podman" }
local REMOTE_TOOLS = tapio.set { "curl", "wget", "ssh", "scp", "sftp", "rsync", "ftp" }

-- Failed execs are not scored: shells try every PATH entry, so they are
-- mostly noise.
-- The match: any of them (one set, one look-up of the name in C).
local SCORED_TOOLS = tapio.union(PRIVILEGE_TOOLS, RAW_NETWORK_TOOLS, CONTAINER_TOOLS, REMOTE_TOOLS)
score({ "process.exec" }, { match = { ret = 0, filename_base = SCORED_TOOLS } },
      function(e)
  if e.ret ~= 0 then return nil end
  local name = tapio.basename(e.filename)
  if PRIVILEGE_TOOLS[name] or RAW_NETWORK_TOOLS[name] then return 0.7 end
  if CONTAINER_TOOLS[name] then return 0.6 end
  if REMOTE_TOOLS[name] then return 0.5 end
  return nil
end)

-- A process killed by a signal other than the usual stop requests
-- (SIGINT 2, SIGKILL 9, SIGPIPE 13, SIGTERM 15). Crashes are an alert
-- (process_crashed).
local USUAL_SIGNALS = { [0] = true, [2] = true, [9] = true, [13] = true, [15] = true }
-- The others (the field is the exit status's low 7 bits), for the match:
-- an ordinary exit never calls the function.
local UNUSUAL_SIGNALS = {}
for sig = 1, 127 do
  if not USUAL_SIGNALS[sig] then UNUSUAL_SIGNALS[#UNUSUAL_SIGNALS + 1] = sig end
end

score({ "process.exit" }, { match = { signal = UNUSUAL_SIGNALS } }, function(e)
  if not USUAL_SIGNALS[e.signal] then return 0.5 end
  return nil
end)

score({ "security.module_load" }, function(e) return 0.9 end)

-- Attaching to another process (debuggers do it; so does code injection).
local PTRACE_ATTACH = tapio.set { "PTRACE_ATTACH", "PTRACE_SEIZE" }

score({ "security.ptrace" }, function(e)
  if e.ret == 0 and PTRACE_ATTACH[e.request_str] then return 0.7 end
  return nil
end)

-- A process that was not root became root (sudo and su do it, after their
-- exec scored above; anything else doing it is worth a look).
score({ "security.setuid" }, function(e)
  if e.ret == 0 and e.old_uid ~= 0 and e.old_euid ~= 0 and (e.new_uid == 0 or e.new_euid == 0) then
    return 0.7
  end
  return nil
end)

local MOUNT_TOOLS = tapio.set { "mount", "umount", "systemd", "systemd-udevd", "containerd",
                                "dockerd", "runc", "crun", "snapd", "udisksd" }

score({ "container.mount" }, function(e)
  if e.ret == 0 and not MOUNT_TOOLS[e.comm] then return 0.6 end
  return nil
end)

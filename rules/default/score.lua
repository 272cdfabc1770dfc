-- Importance of events that are not alerts. Without -a, events scoring at
-- least the threshold (0.5 by default) reach the outputs beside the alerts.

local NETWORK_TOOLS = tapio.set { "curl", "wget", "nc", "ncat", "netcat", "socat", "nmap",
                                  "ssh", "scp", "sftp", "rsync", "telnet", "ftp", "tftp" }
local PRIVILEGE_TOOLS = tapio.set { "sudo", "su", "pkexec", "doas", "passwd", "chpasswd",
                                    "useradd", "userdel", "usermod", "groupadd", "visudo",
                                    "setcap", "chattr", "insmod", "modprobe", "rmmod" }
local CONTAINER_TOOLS = tapio.set { "nsenter", "unshare", "capsh", "kubectl", "crictl",
                                    "docker", "runc", "ctr" }

-- Failed execs are not scored: shells try every PATH entry, so they are
-- mostly noise.
score({ "process.exec" }, function(e)
  if e.ret ~= 0 then return nil end
  local name = tapio.basename(e.filename)
  if PRIVILEGE_TOOLS[name] or CONTAINER_TOOLS[name] then return 0.7 end
  if NETWORK_TOOLS[name] then return 0.6 end
  return nil
end)

-- A process killed by a signal other than the usual stop requests
-- (SIGINT 2, SIGKILL 9, SIGPIPE 13, SIGTERM 15).
local USUAL_SIGNALS = { [0] = true, [2] = true, [9] = true, [13] = true, [15] = true }

score({ "process.exit" }, function(e)
  if not USUAL_SIGNALS[e.signal] then return 0.5 end
  return nil
end)

-- Escape to host (ATT&CK T1611, tactic privilege escalation): a container
-- reaching the host through the kernel's own interfaces (namespaces,
-- cgroups, mounts, devices, files the kernel executes, eBPF and modules)
-- and through the runtime's API.

local basename, startswith, endswith = tapio.basename, tapio.startswith, tapio.endswith
local startswith_any = tapio.startswith_any
local O_ACCMODE = 3

rule {
  name = "cgroup_release_agent_written",
  desc = "A cgroup release_agent or notify_on_release file was written: the classic "
      .. "container escape (CVE-2022-0492) runs the agent as root on the host",
  events = { "file.open" },
  severity = "critical",
  importance = 1.0,
  tags = { "mitre:T1611", "container" },
  match = { flags = { any = "O_WRONLY|O_RDWR" }, path = { "*/release_agent", "*/notify_on_release" } },
  when = function(e)
    return e.ret >= 0 and (e.flags & O_ACCMODE) ~= 0
        and (tapio.endswith(e.path, "/release_agent")
             or tapio.endswith(e.path, "/notify_on_release"))
  end,
  output = "${path} written by ${comm} (pid ${pid}, uid ${uid})",
  tests = {
    { event = { type = "file.open", comm = "sh", path = "/tmp/cg/release_agent", flags = 1 },
      expect = true },
    { event = { type = "file.open", comm = "sh", path = "/sys/fs/cgroup/memory/x/notify_on_release",
                flags = 1 }, expect = true },
    { event = { type = "file.open", comm = "cat", path = "/sys/fs/cgroup/memory/release_agent",
                flags = 0 }, expect = false },
  },
}

local MOUNTERS = tapio.set { "mount", "systemd", "(sd-mount)", "systemd-fstab-g", "snapd",
                             "udisksd", "systemd-udevd", "containerd", "dockerd", "runc",
                             "crun", "kubelet" }
local DISK_FS = tapio.set { "ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "ntfs", "ntfs3",
                            "f2fs", "zfs" }

rule {
  name = "block_device_mounted",
  desc = "A disk file system was mounted by a program that does not manage mounts: "
      .. "inside a container, a way to reach the host's disk",
  events = { "container.mount" },
  severity = "warning",
  importance = 0.75,
  tags = { "mitre:T1611", "container" },
  when = function(e)
    return e.ret == 0 and DISK_FS[e.fstype] ~= nil and tapio.startswith(e.source, "/dev/")
        and not MOUNTERS[e.comm]
  end,
  output = "${source} (${fstype}) mounted on ${target} by ${comm} (pid ${pid}, uid ${uid})",
  tests = {
    { event = { type = "container.mount", comm = "sh", source = "/dev/sda1", target = "/mnt/h",
                fstype = "ext4" }, expect = true },
    { event = { type = "container.mount", comm = "mount", source = "/dev/sda1", target = "/home",
                fstype = "ext4" }, expect = false },
    { event = { type = "container.mount", comm = "sh", source = "tmpfs", target = "/run/x",
                fstype = "tmpfs" }, expect = false },
  },
}

-- Container runtimes and their helpers: they set up namespaces, mounts and
-- cgroups from inside a container's cgroup as part of starting it.
local RUNTIMES = tapio.set { "runc", "runc:[0:PARENT]", "runc:[1:CHILD]", "runc:[2:INIT]", "crun",
                             "conmon", "containerd", "containerd-shim", "containerd-shim-runc-v2",
                             "dockerd", "docker-init", "tini", "catatonit", "podman", "buildah",
                             "kata-runtime", "runsc", "youki", "lxc-start", "systemd-nspawn" }

local function in_container(e)
  return e.container.id ~= nil and not RUNTIMES[e.comm]
end

local WHERE = "container ${container.id} (${container.runtime}), pod ${k8s.namespace}/${k8s.pod}"

rule {
  name = "namespace_entered_from_container",
  desc = "A process inside a container joined another namespace with setns (nsenter): with "
      .. "the host's PID namespace visible (--pid=host), nsenter -t 1 is a shell on the host",
  events = { "container.setns" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1611", "container" },
  when = function(e)
    return e.ret == 0 and in_container(e)
  end,
  output = "${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent ${parent.comm} pid ${ppid}) in "
        .. WHERE .. " joined namespace ${nstype_str} ${ns_ino}: ${argv}",
  tests = {
    { event = { type = "container.setns", comm = "nsenter", nstype = 0x20000, ns_ino = 4026531840,
                container = { id = "abc", runtime = "docker" } }, expect = true },
    { event = { type = "container.setns", comm = "runc:[2:INIT]", nstype = 0x20000,
                container = { id = "abc" } }, expect = false },
    { event = { type = "container.setns", comm = "nsenter", nstype = 0x20000 }, expect = false },
    { event = { type = "container.setns", comm = "nsenter", ret = -1,
                container = { id = "abc" } }, expect = false },
  },
}

-- Programs that build sandboxes with namespaces as their normal work.
local SANDBOXES = tapio.set { "chrome", "chromium", "firefox", "firefox-esr", "bwrap", "flatpak",
                              "buildkitd", "buildah", "podman", "rootlesskit", "newuidmap" }

rule {
  name = "namespace_created_in_container",
  desc = "A process inside a container made new namespaces (unshare, clone): a user namespace "
      .. "gives back capabilities the container dropped (the CVE-2022-0492 cgroup escape "
      .. "starts with unshare -UrmC)",
  events = { "container.unshare" },
  severity = "warning",
  importance = 0.85,
  tags = { "mitre:T1611", "mitre:T1068", "container" },
  when = function(e)
    return e.ret >= 0 and in_container(e) and not SANDBOXES[e.comm]
  end,
  output = "${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent ${parent.comm} pid ${ppid}) in "
        .. WHERE .. " made namespaces ${flags_str}: ${argv}",
  tests = {
    { event = { type = "container.unshare", comm = "unshare", flags = 0x10000000 | 0x20000,
                container = { id = "abc" } }, expect = true },
    { event = { type = "container.unshare", comm = "runc:[1:CHILD]", flags = 0x20000,
                container = { id = "abc" } }, expect = false },
    { event = { type = "container.unshare", comm = "unshare", flags = 0x20000 }, expect = false },
  },
}

local MS_BIND = 4096
-- File systems that expose the host: its cgroups (release_agent), its
-- kernel interfaces, its disks.
local HOST_FS = tapio.set { "cgroup", "cgroup2", "proc", "sysfs", "debugfs", "securityfs",
                            "tracefs", "bpf", "configfs", "binfmt_misc", "ext2", "ext3", "ext4",
                            "xfs", "btrfs", "vfat", "f2fs", "zfs", "nfs", "nfs4", "fuse" }
local HOST_PATHS = { "/proc", "/sys", "/dev", "/run", "/var/run", "/etc", "/root", "/home",
                     "/var/lib", "/boot", "/lib/modules" }

rule {
  name = "host_filesystem_mounted_in_container",
  desc = "A process inside a container mounted a file system that reaches the host: cgroup "
      .. "(the release_agent escape), proc, sysfs, debugfs, a disk, or a bind of a host path",
  events = { "container.mount" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1611", "mitre:T1006", "container" },
  when = function(e)
    if e.ret ~= 0 or not in_container(e) then return false end
    if HOST_FS[e.fstype] then return true end
    local src = e.source
    return (e.flags & MS_BIND) ~= 0 and src ~= nil
        and (src == "/" or startswith_any(src, HOST_PATHS))
  end,
  output = "${source} (${fstype}, ${flags_str}) mounted on ${target} by ${comm} (pid ${pid}, uid "
        .. "${uid}, parent ${parent.comm} pid ${ppid}) in " .. WHERE,
  tests = {
    { event = { type = "container.mount", comm = "mount", source = "cgroup", fstype = "cgroup",
                target = "/tmp/cg", container = { id = "abc" } }, expect = true },
    { event = { type = "container.mount", comm = "mount", source = "/", fstype = "",
                flags = 4096, target = "/mnt/host", container = { id = "abc" } }, expect = true },
    { event = { type = "container.mount", comm = "mount", source = "tmpfs", fstype = "tmpfs",
                target = "/tmp/x", container = { id = "abc" } }, expect = false },
    { event = { type = "container.mount", comm = "runc:[2:INIT]", source = "proc", fstype = "proc",
                target = "/proc", container = { id = "abc" } }, expect = false },
    { event = { type = "container.mount", comm = "mount", source = "cgroup", fstype = "cgroup",
                target = "/tmp/cg" }, expect = false },
  },
}

-- The control sockets of container runtimes: whoever talks to one can
-- start a privileged container with the host's disk in it.
local RUNTIME_SOCKETS = tapio.set { "docker.sock", "containerd.sock", "crio.sock", "podman.sock",
                                    "cri-dockerd.sock", "dockershim.sock", "buildkitd.sock",
                                    "kubelet.sock", "frakti.sock", "rktlet.sock" }
-- Programs that talk to them as their job (on the host).
local RUNTIME_CLIENTS = tapio.set { "docker", "dockerd", "containerd", "containerd-shim", "ctr",
                                    "crictl", "nerdctl", "kubelet", "podman", "buildkitd",
                                    "buildctl", "docker-compose", "compose", "cadvisor",
                                    "systemd", "tapio-collector", "falco", "cri-dockerd" }

local function runtime_socket(e)
  return e.family == 1 and RUNTIME_SOCKETS[basename(e.unix_path) or ""] ~= nil
end

rule {
  name = "runtime_socket_accessed_from_container",
  desc = "A process inside a container connected to a container runtime's socket "
      .. "(docker.sock, containerd.sock...): it can start a privileged container and take "
      .. "the host",
  events = { "network.connect" },
  match = { family = 1, unix_path_base = RUNTIME_SOCKETS, container = true },
  severity = "critical",
  importance = 1.0,
  tags = { "mitre:T1611", "mitre:T1610", "container" },
  when = function(e)
    return e.ret >= 0 and runtime_socket(e) and in_container(e)
  end,
  output = "${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent ${parent.comm} pid ${ppid}) in "
        .. WHERE .. " connected to ${unix_path}: ${argv}",
  tests = {
    { event = { type = "network.connect", comm = "curl", family = 1,
                unix_path = "/var/run/docker.sock", container = { id = "abc" } }, expect = true },
    { event = { type = "network.connect", comm = "curl", family = 1,
                unix_path = "/var/run/docker.sock" }, expect = false },
    { event = { type = "network.connect", comm = "app", family = 1, unix_path = "/tmp/app.sock",
                container = { id = "abc" } }, expect = false },
  },
}

rule {
  name = "runtime_socket_accessed_by_unusual_program",
  desc = "A program that is not a container tool connected to a container runtime's socket "
      .. "on the host (curl, python, socat to docker.sock): the API used by hand",
  events = { "network.connect" },
  match = { family = 1, unix_path_base = RUNTIME_SOCKETS, container = false },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1610", "mitre:T1609", "container" },
  when = function(e)
    return e.ret >= 0 and runtime_socket(e) and e.container.id == nil
        and not RUNTIME_CLIENTS[e.comm]
  end,
  output = "${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent ${parent.comm} pid ${ppid}) "
        .. "connected to ${unix_path}: ${argv}",
  tests = {
    { event = { type = "network.connect", comm = "python3", family = 1,
                unix_path = "/run/containerd/containerd.sock" }, expect = true },
    { event = { type = "network.connect", comm = "docker", family = 1,
                unix_path = "/var/run/docker.sock" }, expect = false },
  },
}

-- Files whose content the kernel runs as root, on the host, whatever
-- namespace wrote them.
local KERNEL_CALLBACKS = tapio.set { "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe",
                                     "/sys/kernel/uevent_helper", "/proc/sys/kernel/hotplug",
                                     "/proc/sys/fs/binfmt_misc/register",
                                     "/proc/sys/kernel/poweroff_cmd" }
local CALLBACK_WRITERS = tapio.set { "systemd-sysctl", "systemd-coredum", "apport", "abrt-hook-ccp",
                                     "kdumpctl" }

rule {
  name = "kernel_callback_written",
  desc = "A file whose content the kernel executes as root was written: core_pattern (a "
      .. "pipe to a program on the next crash), modprobe, uevent_helper, a binfmt_misc "
      .. "handler. From a container, the best-known way out",
  events = { "file.open" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1611", "mitre:T1546", "container" },
  match = { flags = { any = "O_WRONLY|O_RDWR" },
            one_of = { { path = KERNEL_CALLBACKS }, { path = "/proc/sys/fs/binfmt_misc/*" } } },
  when = function(e)
    local p = e.path
    return e.ret >= 0 and (e.flags & O_ACCMODE) ~= 0 and p ~= nil
        and (KERNEL_CALLBACKS[p] or startswith(p, "/proc/sys/fs/binfmt_misc/"))
        and not CALLBACK_WRITERS[e.comm]
  end,
  output = "${path} written by ${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}), " .. WHERE .. ": ${argv}",
  tests = {
    { event = { type = "file.open", comm = "sh", path = "/proc/sys/kernel/core_pattern",
                flags = 577, container = { id = "abc" } }, expect = true },
    { event = { type = "file.open", comm = "python3", path = "/proc/sys/kernel/modprobe",
                flags = 1 }, expect = true },
    { event = { type = "file.open", comm = "systemd-sysctl", path = "/proc/sys/kernel/core_pattern",
                flags = 1 }, expect = false },
    { event = { type = "file.open", comm = "cat", path = "/proc/sys/kernel/core_pattern",
                flags = 0 }, expect = false },
  },
}

local CONTAINER_TOOLS = tapio.set { "docker", "ctr", "crictl", "kubectl", "nerdctl", "podman",
                                    "runc", "crun", "nsenter", "helm", "kubeadm", "oc" }

rule {
  name = "container_tool_run_in_container",
  desc = "A container management tool (docker, kubectl, ctr, crictl, nsenter, runc...) ran "
      .. "inside a container: steering the host or the cluster from a foothold",
  events = { "process.exec" },
  match = { ret = 0, container = true },
  severity = "warning",
  importance = 0.85,
  tags = { "mitre:T1609", "mitre:T1610", "mitre:T1611", "container" },
  when = function(e)
    return e.ret == 0 and in_container(e) and CONTAINER_TOOLS[basename(e.filename)] ~= nil
  end,
  output = "${filename} run in " .. WHERE .. " (pid ${pid}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}): ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "kubectl", filename = "/usr/local/bin/kubectl",
                argv = { "kubectl", "get", "secrets" }, container = { id = "abc" } },
      expect = true },
    { event = { type = "process.exec", comm = "kubectl", filename = "/usr/local/bin/kubectl",
                argv = { "kubectl", "get", "pods" } }, expect = false },
  },
}

local BPF_PROG_LOAD = 5
local MODULE_TOOLS = tapio.set { "insmod", "modprobe", "kmod", "rmmod" }

rule {
  name = "kernel_code_loaded_from_container",
  desc = "A process inside a container loaded an eBPF program or a kernel module (or ran "
      .. "insmod): code in the host's kernel, shared by every container",
  events = { "security.bpf", "security.module_load", "process.exec" },
  match = { container = true },
  severity = "error",
  importance = 0.95,
  tags = { "mitre:T1611", "mitre:T1547.006", "mitre:T1014", "container" },
  when = function(e)
    if not in_container(e) then return false end
    if e.type == "security.bpf" then return e.cmd == BPF_PROG_LOAD and e.ret >= 0 end
    if e.type == "security.module_load" then return true end
    return e.ret == 0 and MODULE_TOOLS[basename(e.filename)] ~= nil
  end,
  output = "${type} by ${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent ${parent.comm} pid "
        .. "${ppid}) in " .. WHERE .. ": ${name} ${argv}",
  tests = {
    { event = { type = "security.bpf", comm = "x", cmd = 5, ret = 4, container = { id = "abc" } },
      expect = true },
    { event = { type = "process.exec", comm = "insmod", filename = "/sbin/insmod",
                argv = { "insmod", "x.ko" }, container = { id = "abc" } }, expect = true },
    { event = { type = "security.bpf", comm = "x", cmd = 5, ret = 4 }, expect = false },
    { event = { type = "security.bpf", comm = "x", cmd = 0, ret = 4, container = { id = "abc" } },
      expect = false },
  },
}

-- Devices and kernel files that give raw access to the host's disks and
-- memory.
local RAW_DEVICES = { "/dev/sd", "/dev/vd", "/dev/xvd", "/dev/hd", "/dev/nvme", "/dev/mmcblk", "/dev/loop",
                      "/dev/dm-", "/dev/mapper/", "/dev/md", "/dev/mem", "/dev/kmem", "/dev/port",
                      "/proc/kcore", "/proc/sysrq-trigger", "/dev/disk/" }
local RAW_DEVICE_PATHS = {} -- the same as prefixes, for match (checked in C)
for i, d in ipairs(RAW_DEVICES) do RAW_DEVICE_PATHS[i] = d .. "*" end

rule {
  name = "host_device_opened_in_container",
  desc = "A process inside a container opened a host disk or memory device (/dev/sda, "
      .. "/dev/vda, /dev/nvme0n1, /dev/mem, /proc/kcore): reading or writing the host "
      .. "beneath every file permission",
  events = { "file.open" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1611", "mitre:T1006", "container" },
  match = { container = true, path = RAW_DEVICE_PATHS },
  when = function(e)
    return e.ret >= 0 and in_container(e) and startswith_any(e.path, RAW_DEVICES)
  end,
  output = "${path} opened (${flags_str}) by ${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}) in " .. WHERE .. ": ${argv}",
  tests = {
    { event = { type = "file.open", comm = "dd", path = "/dev/vda", flags = 0,
                container = { id = "abc" } }, expect = true },
    { event = { type = "file.open", comm = "cat", path = "/proc/kcore", flags = 0,
                container = { id = "abc" } }, expect = true },
    { event = { type = "file.open", comm = "dd", path = "/dev/vda", flags = 0 }, expect = false },
    { event = { type = "file.open", comm = "cat", path = "/dev/null", flags = 0,
                container = { id = "abc" } }, expect = false },
  },
}

-- ------------------------------------------------------------ drift

rule {
  name = "container_drift_executed",
  desc = "A program that is not in the container's image ran inside the container: the "
      .. "executed file is in the overlay's upper layer, written (or replaced) since the "
      .. "container started, whoever wrote it (a download, a copy, a compiler, an exploit). "
      .. "Containers run what their image holds",
  events = { "process.exec" },
  match = { ret = 0, exe_upper_layer = 1 },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1610", "mitre:T1105", "mitre:T1059", "container" },
  when = function(e) return e.exe_upper_layer == true and in_container(e) end,
  output = "${filename} is not in the image (upper layer, inode ${exe_ino}) and ran in " .. WHERE
        .. ": ${argv}; pid ${pid}, uid ${uid}, parent ${parent.comm} pid ${ppid} exe "
        .. "${parent.exe}, writable ${exe_writable}, tty ${tty|'none'}",
  tests = {
    { event = { type = "process.exec", comm = "xmrig", filename = "/root/xmrig",
                exe_overlay = true, exe_upper_layer = true, exe_ino = 7, argv = { "./xmrig" },
                container = { id = "abc", runtime = "docker" }, parent = { comm = "sh" } },
      expect = true,
      output = "/root/xmrig is not in the image (upper layer, inode 7) and ran in container abc "
            .. "(docker), pod <NA>/<NA>: ./xmrig; pid 1000, uid 0, parent sh pid 1 exe <NA>, "
            .. "writable false, tty none" },
    { event = { type = "process.exec", comm = "nginx", filename = "/usr/sbin/nginx",
                exe_overlay = true, exe_upper_layer = false, argv = { "nginx" },
                container = { id = "abc" } }, expect = false },
    -- an overlay root outside any container (a live system)
    { event = { type = "process.exec", comm = "tool", filename = "/root/tool",
                exe_overlay = true, exe_upper_layer = true, argv = { "tool" } }, expect = false },
  },
}

-- Package managers install programs into running containers and run their
-- scripts: drift, but on purpose (extend for your own build containers).
exception { rule = "container_drift_executed", ancestor = PACKAGE_MANAGERS,
            reason = "package manager installing into the container" }

-- Running code that never touches the disk, and breaking out of
-- containers through the kernel's own interfaces.

local O_ACCMODE = 3
local CLONE_NEWUSER = 0x10000000

rule {
  name = "fileless_execution",
  desc = "A program was executed from a file descriptor or an anonymous memory file "
      .. "(memfd): code that was never written to disk",
  events = { "process.exec" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1620", "mitre:T1027" },
  when = function(e)
    local f = e.filename
    return e.ret == 0 and f ~= nil and (f:find("^/proc/[%w]+/fd/%d+$") ~= nil
        or f:find("^/dev/fd/%d+$") ~= nil or tapio.startswith(f, "memfd:")
        or tapio.startswith(f, "/memfd:"))
  end,
  output = "${comm} (pid ${pid}, ppid ${ppid}, uid ${uid}) executed ${filename}: ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "3", filename = "/dev/fd/3", argv = { "x" } },
      expect = true },
    { event = { type = "process.exec", comm = "x", filename = "/proc/self/fd/7" },
      expect = true },
    { event = { type = "process.exec", comm = "x", filename = "/proc/self/fd/7", ret = -2 },
      expect = false },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls" }, expect = false },
  },
}

rule {
  name = "cgroup_release_agent_written",
  desc = "A cgroup release_agent or notify_on_release file was written: the classic "
      .. "container escape (CVE-2022-0492) runs the agent as root on the host",
  events = { "file.open" },
  severity = "critical",
  importance = 1.0,
  tags = { "mitre:T1611", "container" },
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

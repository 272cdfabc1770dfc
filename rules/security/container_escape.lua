-- Escape to host (ATT&CK T1611, tactic privilege escalation): a container
-- reaching the host through the kernel's own interfaces.

local O_ACCMODE = 3

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
